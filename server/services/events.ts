// The audit trail: its writer (append-only, each event carrying the hash of the one before it, called inside the
// same transaction as the change it records) and its readers (the Events report's keyset pages and the streamed
// export). No code path here updates or deletes an event; only retention prunes whole old segments (audit-retention.ts).
import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from "kysely";
import { canonicalJson } from "../../core/canonical-json";
import { EventListInputSchema, eventLabel, type EventFilter, type EventListInput, type EventPage, type EventView } from "../../core/audit";
import type { EventType } from "../../core/events";
import type { Database, Dialect, EventsTable } from "../db/schema";
import { newId, sha256Hex } from "../util";
import type { ServiceContext } from "./context";
import { documentsChangedBy, stampForSync } from "./sync-stamps";

export type Actor =
  | { type: "user"; id: string; name: string }
  | { type: "computer"; id: string; name: string }
  /** An autonomous approval rule. */
  | { type: "rule"; id: string; name: string }
  | { type: "system"; id?: null; name?: string };

export type NewEvent = {
  type: EventType;
  actor: Actor;
  policyId?: string | null;
  computerId?: string | null;
  requestId?: string | null;
  /** The account on the computer the event is about (agent events, requests). */
  endUser?: string | null;
  /** A caller-chosen id (agent events: the id the agent made, for idempotency); otherwise a new UUID. */
  id?: string;
  detail?: Record<string, unknown>;
};

export const GENESIS_HASH = "0".repeat(64);
/** Concurrent writers on PostgreSQL take turns on this advisory lock so the chain never forks. */
export const EVENTS_LOCK_KEY = 7301;

type HashedFields = Omit<EventsTable, "hash" | "justification" | "end_user"> & { end_user?: string | null };

/**
 * SHA-256 over the previous hash and the canonical JSON of the event with its previous hash. `end_user` counts
 * only when set, so events written before the column existed keep their hashes.
 */
export function eventHash(row: Omit<EventsTable, "hash" | "justification">): string {
  const { end_user, ...rest } = row;
  const fields: HashedFields = end_user === null || end_user === undefined ? rest : { ...rest, end_user };
  return sha256Hex(row.prev_hash + canonicalJson(fields));
}

/** The copy of detail.justification kept for the full-text filter. */
export function justificationOf(detailJson: string): string | null {
  try {
    const d = JSON.parse(detailJson) as { justification?: unknown };
    return typeof d.justification === "string" && d.justification.length > 0 ? d.justification : null;
  } catch {
    return null;
  }
}

export async function appendEvent(trx: Transaction<Database>, dialect: Dialect, event: NewEvent, now: Date): Promise<void> {
  await appendEvents(trx, dialect, [event], now);
}

/**
 * Several events in order, in one go (the sweeper ending hundreds of grants in the same second): one turn of the
 * lock, one read of the chain's end, one insert per 100 events. The chain is the same as appending them one by one.
 */
export async function appendEvents(trx: Transaction<Database>, dialect: Dialect, events: NewEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  // On PostgreSQL concurrent writers take turns so the chain has no fork; SQLite has one writer already.
  if (dialect === "postgres") await sql`select pg_advisory_xact_lock(${sql.lit(EVENTS_LOCK_KEY)})`.execute(trx);
  const last = await trx.selectFrom("events").select(["seq", "hash", "at"]).orderBy("seq", "desc").limit(1).executeTakeFirst();
  const prev = last ?? (await lastCheckpoint(trx));
  // Time never runs backwards along the chain (a clock stepped back, or servers whose clocks differ): sequence
  // order is time order, which also lets a time range become a range of sequence numbers.
  const nowIso = now.toISOString();
  const at = last && last.at > nowIso ? last.at : nowIso;
  let seq = prev?.seq ?? 0;
  let prevHash = prev?.hash ?? GENESIS_HASH;
  const rows: EventsTable[] = [];
  for (const event of events) {
    const row = {
      seq: ++seq,
      id: event.id ?? newId(),
      at,
      type: event.type,
      actor_type: event.actor.type,
      actor_id: event.actor.id ?? null,
      actor_name: event.actor.name ?? null,
      policy_id: event.policyId ?? null,
      computer_id: event.computerId ?? null,
      request_id: event.requestId ?? null,
      detail: canonicalJson(event.detail ?? {}),
      prev_hash: prevHash,
      end_user: event.endUser ?? null,
    };
    const hash = eventHash(row);
    rows.push({ ...row, hash, justification: justificationOf(row.detail) });
    prevHash = hash;
  }
  for (let i = 0; i < rows.length; i += 100) await trx.insertInto("events").values(rows.slice(i, i + 100)).execute();
  // The console's offline store replicates what the events say changed (issue 5; the events themselves by seq).
  await stampForSync(trx, dialect, events.flatMap((event) => documentsChangedBy(event)), now, undefined, true);
}

/** Where the chain continues after retention pruned everything (the newest checkpoint), if it did. */
export async function lastCheckpoint(db: Kysely<Database>): Promise<{ seq: number; hash: string } | undefined> {
  return db.selectFrom("audit_checkpoints").select(["seq", "hash"]).orderBy("seq", "desc").limit(1).executeTakeFirst();
}

// ---- Reading ------------------------------------------------------------------------------------------------

type EventsQuery = SelectQueryBuilder<Database, "events", object>;

function likePattern(word: string): string {
  return `%${word.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Applies the report's filters; every one of them is served by an index on (column, seq) or on (at, seq). */
export function applyFilter<Q extends EventsQuery>(q: Q, f: EventFilter): Q {
  let r = q as EventsQuery;
  if (f.from) r = r.where("at", ">=", new Date(f.from).toISOString());
  if (f.to) r = r.where("at", "<", new Date(f.to).toISOString());
  if (f.types?.length) r = f.types.length === 1 ? r.where("type", "=", f.types[0]!) : r.where("type", "in", f.types);
  if (f.computerId) r = r.where("computer_id", "=", f.computerId);
  if (f.endUser) r = r.where("end_user", "=", f.endUser);
  if (f.policyId) r = r.where("policy_id", "=", f.policyId);
  if (f.requestId) r = r.where("request_id", "=", f.requestId);
  if (f.consoleUser) {
    const who = f.consoleUser;
    r = who.includes("@") ? r.where("actor_type", "=", "user").where("actor_name", "=", who.toLowerCase()) : r.where("actor_id", "=", who).where("actor_type", "=", "user");
  }
  if (f.text) {
    for (const word of f.text.split(/\s+/).filter(Boolean).slice(0, 8)) {
      r = r.where(sql<boolean>`lower(justification) like ${likePattern(word)} escape '\\'`);
    }
  }
  return r as Q;
}

export function toView(row: EventsTable): EventView {
  let detail: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(row.detail) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) detail = parsed as Record<string, unknown>;
  } catch {
    detail = { unreadable: row.detail };
  }
  const actorType = (["user", "computer", "system", "rule"] as const).find((t) => t === row.actor_type) ?? "system";
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at,
    type: row.type,
    label: eventLabel(row.type),
    actor: { type: actorType, id: row.actor_id, name: row.actor_name },
    endUser: row.end_user,
    policyId: row.policy_id,
    computerId: row.computer_id,
    requestId: row.request_id,
    detail,
    hash: row.hash,
    prevHash: row.prev_hash,
  };
}

/**
 * A time range as a range of sequence numbers (time is non-decreasing along the chain), found with two lookups in
 * the (at, seq) index, so that the page itself is a short walk down the primary key. Null: nothing can match.
 */
async function seqBounds(db: Kysely<Database>, f: EventFilter): Promise<{ lo?: number; hi?: number } | null> {
  const bounds: { lo?: number; hi?: number } = {};
  if (f.from) {
    const r = await db.selectFrom("events").select("seq").where("at", ">=", new Date(f.from).toISOString()).orderBy("at", "asc").orderBy("seq", "asc").limit(1).executeTakeFirst();
    if (!r) return null;
    bounds.lo = Number(r.seq);
  }
  if (f.to) {
    const r = await db.selectFrom("events").select("seq").where("at", "<", new Date(f.to).toISOString()).orderBy("at", "desc").orderBy("seq", "desc").limit(1).executeTakeFirst();
    if (!r) return null;
    bounds.hi = Number(r.seq);
  }
  return bounds;
}

/** One page of the report, newest first; `nextBefore` continues it (keyset on seq, never OFFSET). */
export async function listEvents(ctx: Pick<ServiceContext, "db">, input: EventListInput): Promise<EventPage> {
  const { filter, before, limit } = EventListInputSchema.parse(input);
  const bounds = await seqBounds(ctx.db, filter);
  if (!bounds) return { events: [], nextBefore: null };
  let q = applyFilter(ctx.db.selectFrom("events").selectAll(), filter);
  if (bounds.lo !== undefined) q = q.where("seq", ">=", bounds.lo);
  if (bounds.hi !== undefined) q = q.where("seq", "<=", bounds.hi);
  if (before !== undefined) q = q.where("seq", "<", before);
  const rows = await q.orderBy("seq", "desc").limit(limit + 1).execute();
  const page = rows.slice(0, limit).map(toView);
  return { events: page, nextBefore: rows.length > limit ? page[page.length - 1]!.seq : null };
}

/**
 * Every event that matches, oldest first, read in batches by keyset so that memory stays flat whatever the size.
 * The consumer pulls: a slow download slows the reading, it never piles up.
 */
export async function* streamEvents(ctx: Pick<ServiceContext, "db">, filter: EventFilter, batch = 1000): AsyncGenerator<EventView> {
  const bounds = await seqBounds(ctx.db, filter);
  if (!bounds) return;
  let after = bounds.lo !== undefined ? bounds.lo - 1 : 0;
  for (;;) {
    let q = applyFilter(ctx.db.selectFrom("events").selectAll(), filter).where("seq", ">", after);
    if (bounds.hi !== undefined) q = q.where("seq", "<=", bounds.hi);
    const rows = await q.orderBy("seq", "asc").limit(batch).execute();
    for (const r of rows) yield toView(r);
    if (rows.length < batch) return;
    after = Number(rows[rows.length - 1]!.seq);
  }
}
