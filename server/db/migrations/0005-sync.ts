// Migration 0005: replication to the console's offline store (issue 5). `sync_changes` holds each replicated
// document's server stamp (strictly increasing per collection; a missing document is a tombstone), `outbox`
// the console's writes, each run once; `requests.decided_offline_at` the device time of an offline decision.
import { sql, type Kysely, type Migration } from "kysely";

export const m0005Sync: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable("sync_changes")
      .addColumn("collection", "text", (c) => c.notNull())
      .addColumn("doc_id", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      // Set for documents only their owner replicates (outbox entries); null: every role that reads the collection.
      .addColumn("owner_id", "text")
      .addPrimaryKeyConstraint("sync_changes_pk", ["collection", "doc_id"])
      .execute();
    await db.schema.createIndex("sync_changes_order").on("sync_changes").columns(["collection", "updated_at", "doc_id"]).execute();
    await db.schema
      .createTable("outbox")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("owner_id", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("payload", "text", (c) => c.notNull())
      .addColumn("client_at", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("message", "text")
      .addColumn("server_at", "text")
      .addColumn("result", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema.alterTable("requests").addColumn("decided_offline_at", "text").execute();

    // What exists already replicates from the start (stamps may repeat here; every later one is after them all).
    const copy = async (collection: string, table: string, stamp: string) => {
      await sql`insert into sync_changes (collection, doc_id, updated_at, owner_id) select ${sql.lit(collection)}, id, ${sql.ref(stamp)}, null from ${sql.table(table)}`.execute(db);
    };
    await copy("policies", "policies", "updated_at");
    await copy("allowlist", "allowlist", "updated_at");
    await copy("requests", "requests", "updated_at");
    await copy("computers", "computers", "enrolled_at");
    await copy("events", "events", "at");
    await sql`insert into sync_changes (collection, doc_id, updated_at, owner_id) select 'settings', 'settings', updated_at, null from settings where key = 'access_requests'`.execute(db);
    // The settings document exists from the start (the defaults, until someone saves them).
    const at = sql.lit(new Date().toISOString());
    await sql`insert into sync_changes (collection, doc_id, updated_at, owner_id) select 'settings', 'settings', ${at}, null where not exists (select 1 from sync_changes where collection = 'settings')`.execute(db);
  },
};
