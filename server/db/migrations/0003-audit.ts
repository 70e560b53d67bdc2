// Migration 0003: the audit trail's reading and keeping: the end user and the justification as columns (for the
// Events report's filters), indexes that keep keyset paging fast at a million events, and signed checkpoints
// left behind when retention prunes an old segment.
import type { Kysely, Migration } from "kysely";

export const m0003Audit: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable("events").addColumn("end_user", "text").execute();
    await db.schema.alterTable("events").addColumn("justification", "text").execute();
    await db.schema.createIndex("events_type").on("events").columns(["type", "seq"]).execute();
    await db.schema.createIndex("events_request").on("events").columns(["request_id", "seq"]).execute();
    await db.schema.createIndex("events_end_user").on("events").columns(["end_user", "seq"]).execute();
    await db.schema.createIndex("events_actor").on("events").columns(["actor_id", "seq"]).execute();
    await db.schema.createIndex("events_at").on("events").columns(["at", "seq"]).execute();
    await db.schema
      .createTable("audit_checkpoints")
      .addColumn("id", "text", (c) => c.primaryKey())
      // The last pruned event: the first event kept must carry this seq + 1 and this hash as its prev_hash.
      .addColumn("seq", "integer", (c) => c.notNull().unique())
      .addColumn("hash", "text", (c) => c.notNull())
      .addColumn("from_seq", "integer", (c) => c.notNull())
      .addColumn("event_count", "integer", (c) => c.notNull())
      .addColumn("last_at", "text", (c) => c.notNull())
      .addColumn("archive_file", "text", (c) => c.notNull())
      .addColumn("archive_sha256", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("key_id", "text", (c) => c.notNull())
      .addColumn("signature", "text", (c) => c.notNull())
      .execute();
  },
};
