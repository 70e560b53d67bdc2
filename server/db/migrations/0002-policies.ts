// Migration 0002 (issue 3): the allowlist (named app rules: what "All Allowed Application(s)" means), and every
// revision of every policy, kept readable after an edit (policy_versions).
import type { Kysely, Migration } from "kysely";

export const m0002Policies: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable("allowlist")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("name_key", "text", (c) => c.notNull().unique())
      .addColumn("description", "text", (c) => c.notNull())
      .addColumn("rule", "text", (c) => c.notNull())
      .addColumn("created_by", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("policy_versions")
      .addColumn("policy_id", "text", (c) => c.notNull())
      .addColumn("revision", "integer", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("content", "text", (c) => c.notNull())
      .addColumn("created_by", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("policy_versions_pk", ["policy_id", "revision"])
      .execute();
    // Policies made before this migration get their current revision recorded.
    const rows = await db.selectFrom("policies").selectAll().execute();
    for (const r of rows) {
      const content = JSON.stringify({
        description: r.description,
        computers: JSON.parse(r.computers),
        users: JSON.parse(r.users),
        duration: JSON.parse(r.duration),
        applications: JSON.parse(r.applications),
      });
      await db
        .insertInto("policy_versions")
        .values({ policy_id: r.id, revision: r.revision, name: r.name, content, created_by: r.created_by, created_at: r.updated_at })
        .execute();
    }
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable("policy_versions").execute();
    await db.schema.dropTable("allowlist").execute();
  },
};
