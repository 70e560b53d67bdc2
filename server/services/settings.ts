// Settings (requests, Autonomous Approval, two-person approval): one JSON document in the `settings` table.
import type { Transaction } from "kysely";
import type { BundleRequestSettings } from "../../core/bundle";
import type { ConsoleUser } from "../../core/console-api";
import { DEFAULT_SETTINGS, SettingsSchema, type Settings } from "../../core/settings";
import type { Database, Db } from "../db/schema";
import type { ServiceContext } from "./context";
import { appendEvent } from "./events";
import { markBundlesStale } from "./bundles";

export const SETTINGS_KEY = "access_requests";

/** The stored settings, with defaults for anything missing. A damaged row falls back to the defaults (logged). */
export async function getSettings(ctx: Pick<ServiceContext, "db" | "log">, db: Db | Transaction<Database> = ctx.db): Promise<Settings> {
  const row = await db.selectFrom("settings").select("value").where("key", "=", SETTINGS_KEY).executeTakeFirst();
  if (!row) return DEFAULT_SETTINGS;
  try {
    const parsed = SettingsSchema.safeParse(JSON.parse(row.value));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  ctx.log.error({ key: SETTINGS_KEY }, "stored settings are unreadable; using the defaults");
  return DEFAULT_SETTINGS;
}

/** The paths whose values differ, with before and after, for the settings.changed event. */
export function settingsDiff(before: unknown, after: unknown, path = ""): Array<{ path: string; from: unknown; to: unknown }> {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => settingsDiff(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, from: before ?? null, to: after ?? null }];
}

export async function updateSettings(ctx: ServiceContext, input: Settings, actor: ConsoleUser): Promise<Settings> {
  const next = SettingsSchema.parse(input);
  const now = ctx.now();
  const changed = await ctx.db.transaction().execute(async (trx) => {
    const before = await getSettings(ctx, trx);
    const diff = settingsDiff(before, next);
    if (diff.length === 0) return false;
    const value = JSON.stringify(next);
    await trx
      .insertInto("settings")
      .values({ key: SETTINGS_KEY, value, updated_at: now.toISOString() })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: now.toISOString() }))
      .execute();
    await appendEvent(trx, ctx.dialect, { type: "settings.changed", actor: { type: "user", id: actor.id, name: actor.email }, detail: { changes: diff } }, now);
    return true;
  });
  // Every bundle carries the request settings (maximum duration, justification length).
  if (changed) await markBundlesStale(ctx, "all");
  return next;
}

/** What a computer's bundle says about asking for elevation. */
export function bundleRequestSettings(settings: Settings): BundleRequestSettings {
  return { enabled: settings.requests.enabled, maxDuration: settings.requests.maxDuration, minJustificationLength: settings.requests.minJustificationLength };
}
