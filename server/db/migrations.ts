// Schema migrations, in code, run at every start (Kysely's Migrator keeps track of what ran).
// One file per migration under migrations/; add yours to the list below, named so it sorts after the others.
import { type Kysely, type Migration, type MigrationProvider, Migrator } from "kysely";
import { m0001Spine } from "./migrations/0001-spine";
import { m0002Policies } from "./migrations/0002-policies";
import { m0003Audit } from "./migrations/0003-audit";
import { m0004Requests } from "./migrations/0004-requests";
import { m0005Sync } from "./migrations/0005-sync";
import { m0006Notifications } from "./migrations/0006-notifications";

const migrations: Record<string, Migration> = {
  "0001_spine": m0001Spine,
  "0002_policies": m0002Policies,
  "0003_audit": m0003Audit,
  "0004_requests": m0004Requests,
  "0005_sync": m0005Sync,
  "0006_notifications": m0006Notifications,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  // Work on parallel branches may add migrations out of name order; each one is applied once either way.
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ""} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
