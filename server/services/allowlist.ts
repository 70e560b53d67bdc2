// The allowlist: list, add, remove, and apply a whole file (create, update and remove by name, idempotent).
// Every change is on the audit trail and marks every bundle stale: "All Allowed Application(s)" follows it.
import { AppError } from "../../core/app-error";
import { AllowlistEntrySchema, type AllowlistApplyResult, type AllowlistEntry, type AllowlistEntryInput, type AllowlistFile } from "../../core/allowlist";
import type { AppRule } from "../../core/app-rule";
import { describeAppRule } from "../../core/app-rule";
import { canonicalJson } from "../../core/canonical-json";
import type { ConsoleUser } from "../../core/console-api";
import type { AllowlistTable } from "../db/schema";
import { newId } from "../util";
import { markBundlesStale } from "./bundles";
import type { ServiceContext } from "./context";
import { appendEvent } from "./events";
import { stampForSync } from "./sync-stamps";

function rowToEntry(row: AllowlistTable): AllowlistEntry {
  return AllowlistEntrySchema.parse({ id: row.id, name: row.name, description: row.description, rule: JSON.parse(row.rule), createdAt: row.created_at, updatedAt: row.updated_at });
}

export async function listAllowlist(ctx: Pick<ServiceContext, "db">): Promise<AllowlistEntry[]> {
  const rows = await ctx.db.selectFrom("allowlist").selectAll().orderBy("name_key").execute();
  return rows.map(rowToEntry);
}

/** The rules a bundle carries, in name order. */
export async function allowlistRules(ctx: Pick<ServiceContext, "db">): Promise<AppRule[]> {
  return (await listAllowlist(ctx)).map((e) => e.rule);
}

const actorOf = (actor: ConsoleUser) => ({ type: "user" as const, id: actor.id, name: actor.email });
const summary = (e: Pick<AllowlistEntryInput, "name" | "rule">) => ({ name: e.name, rule: describeAppRule(e.rule) });

export async function addAllowlistEntry(ctx: ServiceContext, input: AllowlistEntryInput, actor: ConsoleUser): Promise<AllowlistEntry> {
  const now = ctx.now();
  const at = now.toISOString();
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom("allowlist").select("name").where("name_key", "=", input.name.toLowerCase()).executeTakeFirst();
    if (existing) throw new AppError("conflict", `An allowlist entry named "${existing.name}" exists already. Choose another name.`);
    await trx
      .insertInto("allowlist")
      .values({ id, name: input.name, name_key: input.name.toLowerCase(), description: input.description, rule: canonicalJson(input.rule), created_by: actor.id, created_at: at, updated_at: at })
      .execute();
    await appendEvent(trx, ctx.dialect, { type: "allowlist.changed", actor: actorOf(actor), detail: { added: [summary(input)], changed: [], removed: [] } }, now);
    await stampForSync(trx, ctx.dialect, [{ collection: "allowlist", id }], now);
  });
  await markBundlesStale(ctx, "all");
  const row = await ctx.db.selectFrom("allowlist").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  return rowToEntry(row);
}

export async function removeAllowlistEntry(ctx: ServiceContext, id: string, actor: ConsoleUser): Promise<void> {
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom("allowlist").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new AppError("not_found", "No such allowlist entry (it may have been removed already).");
    await trx.deleteFrom("allowlist").where("id", "=", id).execute();
    await appendEvent(trx, ctx.dialect, { type: "allowlist.changed", actor: actorOf(actor), detail: { added: [], changed: [], removed: [summary(rowToEntry(row))] } }, now);
    await stampForSync(trx, ctx.dialect, [{ collection: "allowlist", id }], now); // a tombstone
  });
  await markBundlesStale(ctx, "all");
}

/** Brings the allowlist to exactly the file's entries. Nothing changes (and nothing is recorded) when it already is. */
export async function applyAllowlist(ctx: ServiceContext, file: AllowlistFile, actor: ConsoleUser): Promise<AllowlistApplyResult> {
  const now = ctx.now();
  const at = now.toISOString();
  const result = await ctx.db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom("allowlist").selectAll().execute();
    const byKey = new Map(rows.map((r) => [r.name_key, r]));
    const added: ReturnType<typeof summary>[] = [];
    const touched: string[] = [];
    const changed: ReturnType<typeof summary>[] = [];
    let unchanged = 0;
    for (const e of file.entries) {
      const key = e.name.toLowerCase();
      const row = byKey.get(key);
      byKey.delete(key);
      const rule = canonicalJson(e.rule);
      if (!row) {
        const newEntryId = newId();
        touched.push(newEntryId);
        await trx.insertInto("allowlist").values({ id: newEntryId, name: e.name, name_key: key, description: e.description, rule, created_by: actor.id, created_at: at, updated_at: at }).execute();
        added.push(summary(e));
      } else if (row.rule !== rule || row.description !== e.description || row.name !== e.name) {
        await trx.updateTable("allowlist").set({ name: e.name, description: e.description, rule, updated_at: at }).where("id", "=", row.id).execute();
        touched.push(row.id);
        changed.push(summary(e));
      } else unchanged++;
    }
    const removed = [...byKey.values()];
    if (removed.length > 0) await trx.deleteFrom("allowlist").where("id", "in", removed.map((r) => r.id)).execute();
    const removedSummary = removed.map((r) => summary(rowToEntry(r)));
    if (added.length + changed.length + removed.length > 0) {
      await appendEvent(trx, ctx.dialect, { type: "allowlist.changed", actor: actorOf(actor), detail: { added, changed, removed: removedSummary } }, now);
      await stampForSync(trx, ctx.dialect, [...touched, ...removed.map((r) => r.id)].map((id) => ({ collection: "allowlist" as const, id })), now);
    }
    return { added: added.length, changed: changed.length, removed: removed.length, unchanged };
  });
  if (result.added + result.changed + result.removed > 0) await markBundlesStale(ctx, "all");
  return result;
}
