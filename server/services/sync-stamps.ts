// Server stamps for replication (issue 5): every change to a replicated document records (collection, id, stamp)
// in `sync_changes`, after the change and in its transaction where there is one. (Events need none: the audit
// trail is append-only and its sequence is commit order; services/sync.ts pulls them by `seq`.) Stamps are strictly increasing per
// collection and handed out in commit order (on PostgreSQL under the audit trail's lock, which every stamping
// transaction takes first), so a pull that has passed a stamp never misses a later commit.
import { sql, type Transaction } from "kysely";
import { nextStamp, SETTINGS_DOC_ID, type SyncCollection } from "../../core/sync";
import type { Database, Db, Dialect, SyncChangesTable } from "../db/schema";
import type { ChangeFeed } from "../change-feed";
import { EVENTS_LOCK_KEY, type NewEvent } from "./events";

export type StampItem = { collection: SyncCollection; id: string; ownerId?: string | null };

/** The replicated documents an audit event says were changed (its own row aside). */
export function documentsChangedBy(event: Pick<NewEvent, "type" | "requestId" | "policyId" | "computerId">): StampItem[] {
  const out: StampItem[] = [];
  if (event.type.startsWith("request.") && event.requestId) out.push({ collection: "requests", id: event.requestId });
  if (event.type.startsWith("policy.") && event.policyId) out.push({ collection: "policies", id: event.policyId });
  if ((event.type.startsWith("computer.") || event.type === "agent.credential_revoked") && event.computerId) out.push({ collection: "computers", id: event.computerId });
  if (event.type === "settings.changed") out.push({ collection: "settings", id: SETTINGS_DOC_ID });
  return out;
}

async function stampIn(trx: Transaction<Database>, dialect: Dialect, items: StampItem[], now: Date, lockHeld: boolean): Promise<void> {
  if (dialect === "postgres" && !lockHeld) await sql`select pg_advisory_xact_lock(${sql.lit(EVENTS_LOCK_KEY)})`.execute(trx);
  const last = new Map<SyncCollection, string | null>();
  // One stamp per document (its last change wins), handed out in order, written in a few statements.
  const unique = [...new Map(items.map((i) => [`${i.collection}\u0000${i.id}`, i])).values()];
  const rows: SyncChangesTable[] = [];
  for (const item of unique) {
    if (!last.has(item.collection)) {
      const row = await trx
        .selectFrom("sync_changes")
        .select("updated_at")
        .where("collection", "=", item.collection)
        .orderBy("updated_at", "desc")
        .orderBy("doc_id", "desc")
        .limit(1)
        .executeTakeFirst();
      last.set(item.collection, row?.updated_at ?? null);
    }
    const stamp = nextStamp(last.get(item.collection)!, now);
    last.set(item.collection, stamp);
    rows.push({ collection: item.collection, doc_id: item.id, updated_at: stamp, owner_id: item.ownerId ?? null });
  }
  for (let i = 0; i < rows.length; i += 100) {
    await trx
      .insertInto("sync_changes")
      .values(rows.slice(i, i + 100))
      .onConflict((oc) => oc.columns(["collection", "doc_id"]).doUpdateSet((eb) => ({ updated_at: eb.ref("excluded.updated_at"), owner_id: eb.ref("excluded.owner_id") })))
      .execute();
  }
}

/**
 * Stamps these documents as changed. Inside a transaction: call it after the change. Outside one: call it after
 * the change has committed (it opens its own transaction and tells the change feed, when given).
 * `lockHeld`: the transaction holds the audit trail's lock already (appendEvent).
 */
export async function stampForSync(db: Db | Transaction<Database>, dialect: Dialect, items: StampItem[], now: Date, feed?: ChangeFeed, lockHeld = false): Promise<void> {
  if (items.length === 0) return;
  if (db.isTransaction) return stampIn(db as Transaction<Database>, dialect, items, now, lockHeld);
  await db.transaction().execute((trx) => stampIn(trx, dialect, items, now, false));
  feed?.publish({ kind: "sync", collections: [...new Set(items.map((i) => i.collection))] });
}

/** Last-seen times are noisy (every agent call): a computer is restamped for them at most this often. */
export const LAST_SEEN_RESTAMP_MS = 30_000;

/** Whether a computer whose only change is its last-seen time is due for a new stamp. */
export async function lastSeenDue(db: Db, computerId: string, now: Date): Promise<boolean> {
  const row = await db.selectFrom("sync_changes").select("updated_at").where("collection", "=", "computers").where("doc_id", "=", computerId).executeTakeFirst();
  return !row || now.getTime() - Date.parse(row.updated_at) >= LAST_SEEN_RESTAMP_MS;
}
