// Migration 0004: elevation requests (issue 4). Settings live in the spine's `settings` table.
import type { Kysely, Migration } from "kysely";

export const m0004Requests: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable("requests")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("computer_id", "text", (c) => c.notNull())
      .addColumn("end_user", "text", (c) => c.notNull())
      .addColumn("app", "text", (c) => c.notNull())
      .addColumn("requested_duration", "text", (c) => c.notNull())
      .addColumn("justification", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addColumn("lapses_at", "text")
      .addColumn("decided_at", "text")
      .addColumn("decided_by", "text")
      .addColumn("approvals", "text", (c) => c.notNull())
      .addColumn("approvals_needed", "integer", (c) => c.notNull())
      .addColumn("granted_duration", "text")
      .addColumn("starts_at", "text")
      .addColumn("ends_at", "text")
      .addColumn("note", "text")
      .addColumn("decline_reason", "text")
      .addColumn("revoked_by", "text")
      .addColumn("revoke_reason", "text")
      .addColumn("extends_request_id", "text")
      .addColumn("client_ref", "text")
      .addColumn("decision_bundle_version", "integer")
      .addColumn("applied_at", "text")
      .addColumn("version", "integer", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("requests_status").on("requests").columns(["status", "created_at"]).execute();
    await db.schema.createIndex("requests_computer").on("requests").columns(["computer_id", "status"]).execute();
    await db.schema.createIndex("requests_client_ref").on("requests").columns(["computer_id", "client_ref"]).unique().execute();
  },
};
