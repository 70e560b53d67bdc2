// Replication to the console's offline store (issue 5): pull by checkpoint, push of outbox entries (each run once,
// as the signed-in user, through the same services as the online mutations), and the stream of changed collections.
// The contract (schemas, checkpoint order, role filter, messages) is core/sync.ts.
import { AppError } from "../../core/app-error";
import { AllowlistEntrySchema } from "../../core/allowlist";
import type { ConsoleUser } from "../../core/console-api";
import { can, ROLE_LABELS } from "../../core/roles";
import {
  canPull,
  checkpointAfter,
  EVENTS_WINDOW,
  OUTBOX_WINDOW,
  lostRaceMessage,
  offlineTime,
  OUTBOX_PAYLOAD_SCHEMAS,
  OUTBOX_PERMISSION,
  OutboxEntrySchema,
  SETTINGS_DOC_ID,
  SYNC_COLLECTIONS,
  SYNC_DOC_SCHEMAS,
  tombstone,
  type Checkpoint,
  type OutboxEntry,
  type OutboxKind,
  type PullResult,
  type StreamEvent,
  type SyncCollection,
} from "../../core/sync";
import type { OutboxTable } from "../db/schema";
import { latestBundleVersions } from "./bundles";
import { toComputerView } from "./computers";
import type { ServiceContext } from "./context";
import { toView as eventView } from "./events";
import { applyPolicy, getPolicy, parsePolicyInput, rowToPolicy, setPolicyStatus, toView as policyView } from "./policies";
import { approveRequest, declineRequest, getRequest, getRequestsByIds, revokeRequest } from "./requests";
import { getSettings, updateSettings } from "./settings";
import { stampForSync } from "./sync-stamps";

// ── Pull ───────────────────────────────────────────────────────────────────────────────────────────────

type Doc = Record<string, unknown> & { id: string };

/** The current documents of these ids (without the sync fields); an id missing from the map was deleted. */
async function loadDocuments(ctx: ServiceContext, collection: SyncCollection, ids: string[]): Promise<Map<string, Doc>> {
  const out = new Map<string, Doc>();
  if (ids.length === 0) return out;
  const now = ctx.now();
  switch (collection) {
    case "policies":
      for (const r of await ctx.db.selectFrom("policies").selectAll().where("id", "in", ids).execute()) {
        const { revision, ...view } = policyView(rowToPolicy(r), now);
        out.set(r.id, { ...view, policyRevision: revision });
      }
      break;
    case "allowlist":
      for (const r of await ctx.db.selectFrom("allowlist").selectAll().where("id", "in", ids).execute()) {
        out.set(r.id, AllowlistEntrySchema.parse({ id: r.id, name: r.name, description: r.description, rule: JSON.parse(r.rule), createdAt: r.created_at, updatedAt: r.updated_at }));
      }
      break;
    case "requests":
      for (const v of await getRequestsByIds(ctx, ids)) out.set(v.id, { ...v, decidedOfflineAt: v.decidedOfflineAt ?? null });
      break;
    case "computers": {
      const rows = await ctx.db.selectFrom("computers").selectAll().where("id", "in", ids).execute();
      const latest = rows.length ? await latestBundleVersions(ctx) : new Map<string, number>();
      for (const r of rows) out.set(r.id, toComputerView(r, latest));
      break;
    }
    case "events":
      break; // pulled by sequence number (pullEvents)
    case "settings":
      if (ids.includes(SETTINGS_DOC_ID)) out.set(SETTINGS_DOC_ID, { ...(await getSettings(ctx)), id: SETTINGS_DOC_ID });
      break;
    case "outbox":
      for (const r of await ctx.db.selectFrom("outbox").selectAll().where("id", "in", ids).execute()) out.set(r.id, outboxDoc(r, ""));
      break;
  }
  return out;
}

/**
 * Events are append-only and their sequence number is commit order (the chain's lock), so they replicate by it:
 * `updatedAt` is the event's time (never decreasing along the chain) and the checkpoint names the last event
 * sent. A fresh store starts at the newest EVENTS_WINDOW; an event pruned since continues from its time.
 */
async function pullEvents(ctx: ServiceContext, checkpoint: Checkpoint | null, limit: number): Promise<PullResult> {
  let after = 0;
  if (checkpoint === null) {
    const row = await ctx.db.selectFrom("events").select("seq").orderBy("seq", "desc").limit(1).offset(EVENTS_WINDOW).executeTakeFirst();
    after = row ? Number(row.seq) : 0;
  } else {
    const known = await ctx.db.selectFrom("events").select("seq").where("id", "=", checkpoint.id).executeTakeFirst();
    const byTime = known ? undefined : await ctx.db.selectFrom("events").select("seq").where("at", "<=", checkpoint.updatedAt).orderBy("at", "desc").orderBy("seq", "desc").limit(1).executeTakeFirst();
    after = Number(known?.seq ?? byTime?.seq ?? 0);
  }
  const rows = await ctx.db.selectFrom("events").selectAll().where("seq", ">", after).orderBy("seq").limit(limit).execute();
  const documents = rows.map((r) => SYNC_DOC_SCHEMAS.events.parse({ ...eventView(r), updatedAt: r.at, _deleted: false }));
  const last = rows[rows.length - 1];
  return { documents, checkpoint: last ? { updatedAt: last.at, id: last.id } : checkpoint };
}

/** Where a fresh store's outbox starts: after the user's newest OUTBOX_WINDOW entries, or at the beginning. */
async function outboxStart(ctx: ServiceContext, user: ConsoleUser): Promise<Checkpoint | null> {
  const row = await ctx.db
    .selectFrom("sync_changes")
    .select(["updated_at", "doc_id"])
    .where("collection", "=", "outbox")
    .where("owner_id", "=", user.id)
    .orderBy("updated_at", "desc")
    .orderBy("doc_id", "desc")
    .limit(1)
    .offset(OUTBOX_WINDOW)
    .executeTakeFirst();
  return row ? { updatedAt: row.updated_at, id: row.doc_id } : null;
}

async function newestEvent(ctx: ServiceContext): Promise<Checkpoint | null> {
  const row = await ctx.db.selectFrom("events").select(["at", "id"]).orderBy("seq", "desc").limit(1).executeTakeFirst();
  return row ? { updatedAt: row.at, id: row.id } : null;
}

/**
 * The documents of `collection` that `user` may see, changed after `checkpoint`, in (updatedAt, id) order.
 * Deleted documents come as tombstones. A role that may not read the collection gets FORBIDDEN.
 */
export async function pull(ctx: ServiceContext, user: ConsoleUser, collection: SyncCollection, checkpoint: Checkpoint | null, limit: number): Promise<PullResult> {
  if (!canPull(user.role, collection)) throw new AppError("forbidden", `Your role (${ROLE_LABELS[user.role]}) may not read ${collection}.`);
  if (collection === "events") return pullEvents(ctx, checkpoint, limit);
  const from = checkpoint ?? (collection === "outbox" ? await outboxStart(ctx, user) : null);
  let q = ctx.db
    .selectFrom("sync_changes")
    .select(["doc_id", "updated_at"])
    .where("collection", "=", collection)
    .where((eb) => eb.or([eb("owner_id", "is", null), eb("owner_id", "=", user.id)]));
  if (from) q = q.where((eb) => eb.or([eb("updated_at", ">", from.updatedAt), eb.and([eb("updated_at", "=", from.updatedAt), eb("doc_id", ">", from.id)])]));
  const page = await q.orderBy("updated_at").orderBy("doc_id").limit(limit).execute();
  const docs = await loadDocuments(ctx, collection, page.map((p) => p.doc_id));
  const schema = SYNC_DOC_SCHEMAS[collection];
  const documents = page.map((p) => {
    const doc = docs.get(p.doc_id);
    if (!doc) return tombstone(collection, p.doc_id, p.updated_at);
    return schema.parse({ ...doc, updatedAt: p.updated_at, _deleted: false });
  });
  const last = page[page.length - 1];
  return { documents, checkpoint: checkpointAfter(last ? [{ updatedAt: last.updated_at, id: last.doc_id }] : [], checkpoint) } as PullResult;
}

// ── Push: the outbox ───────────────────────────────────────────────────────────────────────────────────

function parseJson(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function outboxDoc(r: OutboxTable, updatedAt: string): OutboxEntry {
  return {
    id: r.id,
    kind: r.kind as OutboxKind,
    payload: parseJson(r.payload) ?? {},
    clientAt: r.client_at,
    status: r.status as OutboxEntry["status"],
    message: r.message,
    serverAt: r.server_at,
    result: parseJson(r.result),
    updatedAt,
    _deleted: false,
  };
}

async function storedEntry(ctx: ServiceContext, id: string): Promise<{ row: OutboxTable; doc: OutboxEntry } | null> {
  const row = await ctx.db.selectFrom("outbox").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) return null;
  const stamp = await ctx.db.selectFrom("sync_changes").select("updated_at").where("collection", "=", "outbox").where("doc_id", "=", id).executeTakeFirst();
  return { row, doc: outboxDoc(row, stamp?.updated_at ?? row.created_at) };
}

type Outcome = { status: "accepted" | "refused"; message: string; result: Record<string, unknown> | null };

const refused = (message: string): Outcome => ({ status: "refused", message, result: null });

/** Runs one entry through the same service call as its online mutation, as `user`, checked as if new. */
async function runEntry(ctx: ServiceContext, user: ConsoleUser, entry: OutboxEntry): Promise<Outcome> {
  const kind = entry.kind;
  const permission = OUTBOX_PERMISSION[kind];
  if (!can(user.role, permission)) {
    return refused(`Refused: your role is now ${ROLE_LABELS[user.role]}, which may not do this (${permission}). Nothing was changed; ask an owner if you still need it.`);
  }
  const parsed = OUTBOX_PAYLOAD_SCHEMAS[kind].safeParse(entry.payload);
  if (!parsed.success) return refused(`Refused: ${parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ")}.`);
  const clientAt = offlineTime(entry.clientAt, ctx.now());
  try {
    switch (kind) {
      case "request.approve": {
        const p = OUTBOX_PAYLOAD_SCHEMAS[kind].parse(entry.payload);
        const r = await approveRequest(ctx, p.id, user, { duration: p.duration ?? null, note: p.note || null, clientAt });
        return { status: "accepted", message: r.status === "approved" ? "Approved." : `Approval recorded (${r.approvals.length} of ${r.approvalsNeeded}).`, result: r };
      }
      case "request.decline": {
        const p = OUTBOX_PAYLOAD_SCHEMAS[kind].parse(entry.payload);
        return { status: "accepted", message: "Declined.", result: await declineRequest(ctx, p.id, user, p.reason, { clientAt }) };
      }
      case "request.revoke": {
        const p = OUTBOX_PAYLOAD_SCHEMAS[kind].parse(entry.payload);
        return { status: "accepted", message: "Revoked.", result: await revokeRequest(ctx, p.id, user, p.reason || null, { clientAt }) };
      }
      case "policy.create": {
        const r = await applyPolicy(ctx, parsePolicyInput(entry.payload), user, "create");
        return { status: "accepted", message: r.deployed ? "Created and deployed." : "Created.", result: r.policy };
      }
      case "policy.update": {
        const p = OUTBOX_PAYLOAD_SCHEMAS[kind].parse(entry.payload);
        const r = await applyPolicy(ctx, parsePolicyInput(p.policy), user, { id: p.id });
        return { status: "accepted", message: r.deployed ? "Saved and redeployed." : r.changed ? "Saved." : "No change.", result: r.policy };
      }
      case "policy.deploy":
      case "policy.disable": {
        const p = OUTBOX_PAYLOAD_SCHEMAS[kind].parse(entry.payload);
        const v = await setPolicyStatus(ctx, p.id, kind === "policy.deploy" ? "deploy" : "disable", user);
        return { status: "accepted", message: kind === "policy.deploy" ? "Deployed." : "Disabled.", result: v };
      }
      case "settings.update": {
        const s = await updateSettings(ctx, OUTBOX_PAYLOAD_SCHEMAS[kind].parse(entry.payload), user);
        return { status: "accepted", message: "Settings saved.", result: { ...s, id: SETTINGS_DOC_ID } };
      }
    }
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (kind.startsWith("request.") && e.code === "conflict") {
      const id = (entry.payload as { id?: string }).id;
      const now = ctx.now();
      const request = id ? await getRequest(ctx, id).catch(() => null) : null;
      const lost = request ? lostRaceMessage(kind, request, now, entry.clientAt) : null;
      if (lost) return refused(lost);
    }
    if (kind.startsWith("policy.") && e.code === "not_found") {
      const id = (entry.payload as { id?: string }).id;
      if (id && !(await getPolicy(ctx, id).catch(() => null))) return refused("Refused: the policy is gone (deleted before your change reached the server?). Nothing was changed.");
    }
    return refused(e.message);
  }
}

/**
 * Each pushed outbox entry, once: a new one is claimed (by id, with its owner), run, and its outcome stored; one
 * seen before returns its stored outcome. Returns the server's state of every pushed entry (RxDB's conflicts).
 */
export async function pushOutbox(ctx: ServiceContext, user: ConsoleUser, rows: Array<{ newDocumentState: Record<string, unknown> }>): Promise<OutboxEntry[]> {
  const out: OutboxEntry[] = [];
  for (const { newDocumentState } of rows) {
    const parsed = OutboxEntrySchema.safeParse(newDocumentState);
    const id = typeof newDocumentState.id === "string" ? newDocumentState.id.slice(0, 100) : null;
    if (!parsed.success) {
      if (!id) continue; // nothing to answer about
      const at = ctx.now().toISOString();
      out.push({ ...(tombstone("outbox", id, at) as OutboxEntry), _deleted: false, status: "refused", message: `Refused: this change could not be read (${parsed.error.issues[0]?.message ?? "bad entry"}).`, serverAt: at });
      continue;
    }
    const entry = parsed.data;
    let seen = await storedEntry(ctx, entry.id);
    if (seen && seen.row.status === "waiting" && seen.row.owner_id === user.id && ctx.now().getTime() - Date.parse(seen.row.created_at) > STALE_CLAIM_MS) {
      // The server stopped while running it: whether it took effect is on the record, not known here. Say so.
      await finish(ctx, user, entry.id, refused("The server stopped while applying this change. Check whether it took effect, and make it again if not."));
      seen = await storedEntry(ctx, entry.id);
    }
    if (seen) {
      if (seen.row.owner_id === user.id) out.push(seen.doc);
      else out.push({ ...entry, status: "refused", message: "Refused: this entry id is already used. Make the change again.", serverAt: ctx.now().toISOString() });
      continue;
    }
    if (entry._deleted) continue; // removed on the device before it was ever sent: nothing to run
    const now = ctx.now();
    const claim = await ctx.db
      .insertInto("outbox")
      .values({
        id: entry.id,
        owner_id: user.id,
        kind: entry.kind,
        payload: JSON.stringify(entry.payload),
        client_at: entry.clientAt,
        status: "waiting",
        message: null,
        server_at: null,
        result: null,
        created_at: now.toISOString(),
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    if (Number(claim.numInsertedOrUpdatedRows ?? 0n) !== 1) {
      // The same entry arrived twice at once: the other push runs it.
      const other = await storedEntry(ctx, entry.id);
      if (other && other.row.owner_id === user.id) out.push(other.doc);
      continue;
    }
    let outcome: Outcome;
    try {
      outcome = await runEntry(ctx, user, entry);
    } catch (e) {
      // Not a refusal but a failure (the database, a bug): forget the claim so that a later push runs it again.
      await ctx.db.deleteFrom("outbox").where("id", "=", entry.id).where("status", "=", "waiting").execute();
      throw e;
    }
    await finish(ctx, user, entry.id, outcome);
    const stored = await storedEntry(ctx, entry.id);
    if (stored) out.push(stored.doc);
  }
  return out;
}

/** A claimed entry still waiting after this long was interrupted (a stopped server), not slow. */
const STALE_CLAIM_MS = 5 * 60_000;

async function finish(ctx: ServiceContext, user: ConsoleUser, id: string, outcome: Outcome): Promise<void> {
  const serverAt = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable("outbox")
      .set({ status: outcome.status, message: outcome.message, server_at: serverAt.toISOString(), result: outcome.result ? JSON.stringify(outcome.result) : null })
      .where("id", "=", id)
      .execute();
    await stampForSync(trx, ctx.dialect, [{ collection: "outbox", id, ownerId: user.id }], serverAt);
  });
  ctx.feed.publish({ kind: "sync", collections: ["outbox"] });
}

// ── Stream ─────────────────────────────────────────────────────────────────────────────────────────────

/** How often the stream looks for changes nobody announced (agent events, another server's writes). */
export const STREAM_POLL_MS = 2000;
/** Feed messages arriving within this many ms of each other lead to one read of the newest stamps. */
export const STREAM_COALESCE_MS = 50;

async function newestStamps(ctx: ServiceContext): Promise<Map<SyncCollection, Checkpoint>> {
  const out = new Map<SyncCollection, Checkpoint>();
  const event = await newestEvent(ctx);
  if (event) out.set("events", event);
  for (const collection of SYNC_COLLECTIONS) {
    if (collection === "events") continue;
    const row = await ctx.db
      .selectFrom("sync_changes")
      .select(["updated_at", "doc_id"])
      .where("collection", "=", collection)
      .orderBy("updated_at", "desc")
      .orderBy("doc_id", "desc")
      .limit(1)
      .executeTakeFirst();
    if (row) out.set(collection, { updatedAt: row.updated_at, id: row.doc_id });
  }
  return out;
}

type Watcher = { listeners: Set<(changed: Map<SyncCollection, Checkpoint>) => void>; stop: () => void };
const watchers = new WeakMap<ServiceContext, Watcher>();

/**
 * One look-out per server process, shared by every open stream: on change-feed messages (a burst counts once; and
 * every STREAM_POLL_MS, for writes nobody announced) it reads the newest stamp of each collection once and tells the
 * streams which ones moved.
 */
function watch(ctx: ServiceContext, listener: (changed: Map<SyncCollection, Checkpoint>) => void): () => void {
  let w = watchers.get(ctx);
  if (!w) {
    const listeners = new Set<(changed: Map<SyncCollection, Checkpoint>) => void>();
    let known: Map<SyncCollection, Checkpoint> | null = null;
    let running = false;
    let again = false;
    const look = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const now = await newestStamps(ctx);
          const changed = new Map<SyncCollection, Checkpoint>();
          for (const [collection, cp] of now) {
            const before = known?.get(collection);
            if (known && !(before && before.updatedAt === cp.updatedAt && before.id === cp.id)) changed.set(collection, cp);
          }
          known = now;
          if (changed.size > 0) for (const l of listeners) l(changed);
        } while (again);
      } catch (err) {
        ctx.log.warn({ err }, "sync stream: could not read the newest changes");
      } finally {
        running = false;
      }
    };
    // A burst of feed messages (thousands of agents checking in) becomes one look per STREAM_COALESCE_MS.
    let soon: NodeJS.Timeout | null = null;
    const lookSoon = () => {
      if (soon) return;
      soon = setTimeout(() => {
        soon = null;
        void look();
      }, STREAM_COALESCE_MS);
      soon.unref?.();
    };
    const unsubscribe = ctx.feed.subscribe(lookSoon);
    const timer = setInterval(() => void look(), STREAM_POLL_MS);
    timer.unref?.();
    void look();
    w = {
      listeners,
      stop: () => {
        unsubscribe();
        clearInterval(timer);
        if (soon) clearTimeout(soon);
        watchers.delete(ctx);
      },
    };
    watchers.set(ctx, w);
  }
  const watcher = w;
  watcher.listeners.add(listener);
  return () => {
    watcher.listeners.delete(listener);
    if (watcher.listeners.size === 0) watcher.stop();
  };
}

/**
 * Yields `{ collection, checkpoint }` whenever a collection `user` may pull has changed since the stream began,
 * until `signal` aborts. The checkpoint is the collection's newest (null for the outbox, whose entries are each
 * person's own: pull it from your own checkpoint).
 */
export async function* syncStream(ctx: ServiceContext, user: ConsoleUser, sessionId: string, signal: AbortSignal | undefined): AsyncGenerator<StreamEvent> {
  const pending = new Map<SyncCollection, Checkpoint>();
  let wake: (() => void) | null = null;
  const stop = watch(ctx, (changed) => {
    for (const [c, cp] of changed) if (canPull(user.role, c)) pending.set(c, cp);
    wake?.();
  });
  // A stream outlives no session: signed out, expired, disabled or given another role, it ends (the console then
  // finds itself signed out, or reconnects with the new role's view).
  let ended = false;
  const check = setInterval(() => {
    void sessionStillFor(ctx, sessionId, user).then((ok) => {
      if (!ok) {
        ended = true;
        wake?.();
      }
    });
  }, SESSION_CHECK_MS);
  check.unref?.();
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  try {
    while (!signal?.aborted && !ended) {
      if (pending.size === 0) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
        continue;
      }
      const batch = [...pending];
      pending.clear();
      for (const [collection, cp] of batch) yield { collection, checkpoint: collection === "outbox" ? null : cp };
    }
  } finally {
    stop();
    clearInterval(check);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** How often an open stream checks that its session still stands. */
export const SESSION_CHECK_MS = 5_000;

async function sessionStillFor(ctx: ServiceContext, sessionId: string, user: ConsoleUser): Promise<boolean> {
  try {
    const row = await ctx.db
      .selectFrom("sessions")
      .innerJoin("users", "users.id", "sessions.user_id")
      .select(["sessions.expires_at", "sessions.idle_expires_at", "users.disabled", "users.role"])
      .where("sessions.id", "=", sessionId)
      .executeTakeFirst();
    const t = ctx.now().getTime();
    return !!row && !row.disabled && row.role === user.role && t < Date.parse(row.expires_at) && t < Date.parse(row.idle_expires_at);
  } catch {
    return true; // the database is away for a moment: judge at the next look
  }
}
