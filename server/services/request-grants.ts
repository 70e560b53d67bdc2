// What the bundle compiler and the agent check-in need from requests: a computer's grants in force, and the
// "applied on the computer" bookkeeping. Kept apart from requests.ts so bundles.ts and computers.ts import little.
import type { BundleGrant } from "../../core/bundle";
import type { RequestApp } from "../../core/request";
import type { ServiceContext } from "./context";
import { stampForSync } from "./sync-stamps";

/** Approved, unexpired requests of this computer, as bundle grants (the app by its SHA-256). */
export async function grantsForComputer(ctx: Pick<ServiceContext, "db">, computerId: string, now: Date): Promise<BundleGrant[]> {
  const rows = await ctx.db
    .selectFrom("requests")
    .select(["id", "end_user", "app", "starts_at", "ends_at"])
    .where("computer_id", "=", computerId)
    .where("status", "=", "approved")
    .where("ends_at", ">", now.toISOString())
    .orderBy("id")
    .execute();
  return rows.map((r) => {
    const app = JSON.parse(r.app) as RequestApp;
    return { id: `grant-${r.id}`, requestId: r.id, user: r.end_user, applications: [{ type: "fileHash" as const, sha256: app.sha256 }], startsAt: r.starts_at!, endsAt: r.ends_at! };
  });
}

/**
 * The agent reported holding bundle `version`: every decision carried by that version or an older one is now
 * applied on the computer. Tells the console which requests changed.
 */
export async function markRequestsApplied(ctx: ServiceContext, computerId: string, version: number): Promise<void> {
  const rows = await ctx.db
    .updateTable("requests")
    .set({ applied_at: ctx.now().toISOString() })
    .where("computer_id", "=", computerId)
    .where("applied_at", "is", null)
    .where("decision_bundle_version", "is not", null)
    .where("decision_bundle_version", "<=", version)
    .returning("id")
    .execute();
  if (rows.length === 0) return;
  await stampForSync(ctx.db, ctx.dialect, rows.map((r) => ({ collection: "requests" as const, id: r.id })), ctx.now(), ctx.feed);
  ctx.feed.publish({ kind: "requests", ids: rows.map((r) => r.id) });
}
