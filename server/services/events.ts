// The audit trail's writer: append-only, each event carrying the hash of the one before it.
// Called inside the same transaction as the change it records.
import { sql, type Transaction } from "kysely";
import { canonicalJson } from "../../core/canonical-json";
import type { EventType } from "../../core/events";
import type { Database, Dialect } from "../db/schema";
import { newId, sha256Hex } from "../util";

export type Actor =
  | { type: "user"; id: string; name: string }
  | { type: "computer"; id: string; name: string }
  | { type: "system"; id?: null; name?: string };

export type NewEvent = {
  type: EventType;
  actor: Actor;
  policyId?: string | null;
  computerId?: string | null;
  requestId?: string | null;
  detail?: Record<string, unknown>;
};

export const GENESIS_HASH = "0".repeat(64);

export async function appendEvent(trx: Transaction<Database>, dialect: Dialect, event: NewEvent, now: Date): Promise<void> {
  // On PostgreSQL concurrent writers take turns so the chain has no fork; SQLite has one writer already.
  if (dialect === "postgres") await sql`select pg_advisory_xact_lock(7301)`.execute(trx);
  const last = await trx.selectFrom("events").select(["seq", "hash"]).orderBy("seq", "desc").limit(1).executeTakeFirst();
  const row = {
    seq: (last?.seq ?? 0) + 1,
    id: newId(),
    at: now.toISOString(),
    type: event.type,
    actor_type: event.actor.type,
    actor_id: event.actor.id ?? null,
    actor_name: event.actor.name ?? null,
    policy_id: event.policyId ?? null,
    computer_id: event.computerId ?? null,
    request_id: event.requestId ?? null,
    detail: canonicalJson(event.detail ?? {}),
    prev_hash: last?.hash ?? GENESIS_HASH,
  };
  const hash = sha256Hex(row.prev_hash + canonicalJson(row));
  await trx.insertInto("events").values({ ...row, hash }).execute();
}
