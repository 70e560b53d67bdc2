// Elevation requests: submit (from the agent), decide (console, jit-ctl, autonomous rules), end (revoke, expiry,
// the user's own "done"), and the live change stream. Each decision is one conditional UPDATE (… WHERE version = the
// version read), so two people deciding at once end with exactly one decision; the loser is told who won.
import type { Transaction } from "kysely";
import { AppError } from "../../core/app-error";
import { approvalsNeeded, matchAutonomousApproval } from "../../core/autonomous-approval";
import type { ConsoleUser } from "../../core/console-api";
import { describeDuration, durationMs } from "../../core/duration";
import type { EventType } from "../../core/events";
import { normalizeUserName } from "../../core/names";
import type { AgentRequestView, SubmitRequest } from "../../core/protocol";
import {
  transition,
  type Approval,
  type Decider,
  type Ender,
  type RequestApp,
  type RequestEvent,
  type RequestListFilter,
  type RequestState,
  type RequestStatus,
  type RequestView,
} from "../../core/request";
import type { Database, RequestsTable } from "../db/schema";
import { newId } from "../util";
import { currentBundle, markBundlesStale } from "./bundles";
import type { ServiceContext } from "./context";
import { appendEvent, appendEvents, type Actor, type NewEvent } from "./events";
import { getSettings } from "./settings";
import { stampForSync } from "./sync-stamps";

type Row = RequestsTable;
type ComputerInfo = { id: string; name: string; last_seen_at: string | null; applied_bundle_version: number | null };

const hhmm = (iso: string | null) => (iso ? `${iso.slice(11, 16)} UTC` : "an unknown time");

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toView(r: Row, c: ComputerInfo | undefined): RequestView {
  return {
    id: r.id,
    computer: { id: r.computer_id, name: c?.name ?? "(removed computer)" },
    user: r.end_user,
    app: parseJson<RequestApp>(r.app, { path: "?", sha256: "0".repeat(64) }),
    requestedDuration: r.requested_duration,
    justification: r.justification,
    status: r.status as RequestStatus,
    createdAt: r.created_at,
    waitingSince: r.created_at,
    decidedAt: r.decided_at,
    decidedBy: parseJson<Decider | null>(r.decided_by, null),
    decidedOfflineAt: r.decided_offline_at ?? null,
    approvals: parseJson<Approval[]>(r.approvals, []),
    approvalsNeeded: r.approvals_needed,
    grantedDuration: r.granted_duration,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    note: r.note,
    declineReason: r.decline_reason,
    revokedBy: parseJson<Ender | null>(r.revoked_by, null),
    revokeReason: r.revoke_reason,
    extendsRequestId: r.extends_request_id,
    lapsesAt: r.status === "pending" ? r.lapses_at : null,
    applied: { bundleVersion: r.decision_bundle_version, appliedAt: r.applied_at, computerLastSeenAt: c?.last_seen_at ?? null },
  };
}

async function computersById(ctx: ServiceContext, ids: string[]): Promise<Map<string, ComputerInfo>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await ctx.db.selectFrom("computers").select(["id", "name", "last_seen_at", "applied_bundle_version"]).where("id", "in", unique).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** The views of these requests (for replication to the console's store); unknown ids are left out. */
export async function getRequestsByIds(ctx: ServiceContext, ids: string[]): Promise<RequestView[]> {
  if (ids.length === 0) return [];
  return views(ctx, await ctx.db.selectFrom("requests").selectAll().where("id", "in", ids).execute());
}

async function views(ctx: ServiceContext, rows: Row[]): Promise<RequestView[]> {
  const computers = await computersById(ctx, rows.map((r) => r.computer_id));
  return rows.map((r) => toView(r, computers.get(r.computer_id)));
}

async function readRow(ctx: ServiceContext, id: string): Promise<Row> {
  const row = await ctx.db.selectFrom("requests").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw new AppError("not_found", `No request ${id}. It may have been mistyped; list requests to find it.`);
  return row;
}

export async function getRequest(ctx: ServiceContext, id: string): Promise<RequestView> {
  return (await views(ctx, [await readRow(ctx, id)]))[0]!;
}

/** Pending (newest first), active (approved, ending soonest first), history (ended, latest first), or all. */
export async function listRequests(ctx: ServiceContext, filter: RequestListFilter | null, limit: number): Promise<RequestView[]> {
  let q = ctx.db.selectFrom("requests").selectAll();
  if (filter === "pending") q = q.where("status", "=", "pending").orderBy("created_at", "desc");
  else if (filter === "active") q = q.where("status", "=", "approved").orderBy("ends_at", "asc");
  else if (filter === "history") q = q.where("status", "not in", ["pending", "approved"]).orderBy("updated_at", "desc");
  else q = q.orderBy("created_at", "desc");
  return views(ctx, await q.orderBy("id").limit(limit).execute());
}

// ── Decisions ────────────────────────────────────────────────────────────────────────────────────────

function stateOf(r: Row): RequestState {
  return {
    status: r.status as RequestStatus,
    requester: r.end_user,
    requestedDuration: r.requested_duration,
    approvals: parseJson<Approval[]>(r.approvals, []),
    approvalsNeeded: r.approvals_needed,
    lapsesAt: r.lapses_at,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
  };
}

/** "Already approved by dana@example.com at 10:42 UTC": what the loser of a race, or a late click, is told. */
export function alreadyDecidedMessage(r: Row): string {
  const decider = parseJson<Decider | null>(r.decided_by, null);
  const ender = parseJson<Ender | null>(r.revoked_by, null);
  switch (r.status as RequestStatus) {
    case "approved":
      return `Already approved by ${decider?.name ?? "someone"} at ${hhmm(r.decided_at)}.`;
    case "declined":
      return `Already declined by ${decider?.name ?? "someone"} at ${hhmm(r.decided_at)}.`;
    case "cancelled":
      return `Already cancelled by ${r.end_user} at ${hhmm(r.updated_at)}.`;
    case "lapsed":
      return `Already lapsed at ${hhmm(r.updated_at)}: nobody answered it in time.`;
    case "revoked":
      return `Already ended: revoked by ${ender?.name ?? "someone"} at ${hhmm(r.ends_at)}.`;
    case "expired":
      return `Already ended: it expired at ${hhmm(r.ends_at)}.`;
    case "pending":
      return "The request is still pending.";
  }
}

type Outcome = { row: Row; changedBundle: boolean };

const EVENT_FOR: Record<RequestEvent["type"], EventType> = {
  approve: "request.approved",
  decline: "request.declined",
  cancel: "request.cancelled",
  lapse: "request.lapsed",
  revoke: "request.revoked",
  expire: "request.expired",
  end_early: "request.ended_early",
};

/**
 * Applies one event to one request atomically: read, decide with the pure state machine, then UPDATE … WHERE
 * version = the one read. A lost race re-reads and decides again (a second approval still counts; a decision
 * after another decision is refused with who made it).
 */
async function applyEvent(
  ctx: ServiceContext,
  id: string,
  event: RequestEvent,
  actor: Actor,
  extra: { note?: string | null; reason?: string | null; onlyComputerId?: string; clientAt?: string | null } = {},
): Promise<Outcome> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const row = await readRow(ctx, id);
    if (extra.onlyComputerId && row.computer_id !== extra.onlyComputerId) throw new AppError("not_found", `No request ${id} from this computer.`);
    const decision = event.type === "approve" || event.type === "decline";
    if (decision && row.status !== "pending") throw new AppError("conflict", alreadyDecidedMessage(row));
    if ((event.type === "revoke" || event.type === "end_early") && row.status !== "approved") throw new AppError("conflict", alreadyDecidedMessage(row));
    const now = ctx.now();
    const t = transition(stateOf(row), event, now);
    if ("refused" in t) {
      if (/lapsed at/.test(t.refused)) throw new AppError("conflict", `This request lapsed at ${hhmm(row.lapses_at)}: nobody answered it in time. The user can ask again.`);
      if (/raised/.test(t.refused)) throw new AppError("forbidden", `You cannot decide a request you raised (${row.end_user} on this computer is you). Ask another approver.`);
      if (/already approved this request/.test(t.refused)) throw new AppError("conflict", `${t.refused}.`);
      if (/already|only/.test(t.refused)) throw new AppError("conflict", alreadyDecidedMessage(row));
      throw new AppError("bad_request", t.refused.charAt(0).toUpperCase() + t.refused.slice(1) + ".");
    }
    const next = t.next;
    const at = now.toISOString();
    const set: Partial<Row> = { status: next.status, updated_at: at, version: row.version + 1, approvals: JSON.stringify(next.approvals), lapses_at: next.lapsesAt };
    let eventType: EventType = EVENT_FOR[event.type];
    let changedBundle = false;
    if (event.type === "approve") {
      if (next.status === "pending") {
        eventType = "request.approval_recorded";
      } else {
        const granted = event.duration ?? row.requested_duration;
        let startsAt = next.startsAt!;
        let endsAt = next.endsAt!;
        if (row.extends_request_id) {
          // An extension runs on from the end of the grant it extends (or from now, if that grant has ended).
          const base = await ctx.db.selectFrom("requests").select(["ends_at", "status"]).where("id", "=", row.extends_request_id).executeTakeFirst();
          const from = base?.status === "approved" && base.ends_at ? Math.max(Date.parse(base.ends_at), now.getTime()) : now.getTime();
          startsAt = at;
          endsAt = new Date(from + durationMs(granted)!).toISOString();
        }
        const by: Decider = event.by.type === "rule" ? { type: "rule", id: event.by.id, name: event.by.name } : { type: "user", id: event.by.id, name: event.by.email };
        Object.assign(set, { decided_at: at, decided_by: JSON.stringify(by), granted_duration: granted, starts_at: startsAt, ends_at: endsAt, note: extra.note ?? null, decided_offline_at: extra.clientAt ?? null });
        changedBundle = true;
      }
    } else if (event.type === "decline") {
      Object.assign(set, { decided_at: at, decided_by: JSON.stringify({ type: "user", id: event.by.id, name: event.by.email } satisfies Decider), decline_reason: event.reason, decided_offline_at: extra.clientAt ?? null });
    } else if (event.type === "revoke" || event.type === "end_early") {
      const ender: Ender = event.type === "revoke" ? { type: "user", id: event.by.id, name: event.by.email } : { type: "enduser", id: null, name: row.end_user };
      Object.assign(set, { ends_at: next.endsAt, revoked_by: JSON.stringify(ender), revoke_reason: extra.reason ?? (event.type === "end_early" ? "ended early by the user" : null) });
      changedBundle = true;
    } else if (event.type === "expire") {
      changedBundle = true;
    }
    if (changedBundle) Object.assign(set, { decision_bundle_version: null, applied_at: null });

    const won = await ctx.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable("requests").set(set).where("id", "=", id).where("version", "=", row.version).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await appendEvent(
        trx,
        ctx.dialect,
        {
          type: eventType,
          actor,
          computerId: row.computer_id,
          requestId: id,
          endUser: row.end_user,
          detail: eventDetail(row, set, event, extra),
        },
        now,
      );
      return true;
    });
    if (won) return { row: { ...row, ...set } as Row, changedBundle };
  }
  throw new AppError("conflict", "The request is changing too often to decide now; try again.");
}

function eventDetail(row: Row, set: Partial<Row>, event: RequestEvent, extra: { note?: string | null; reason?: string | null; clientAt?: string | null }): Record<string, unknown> {
  const app = parseJson<RequestApp>(row.app, { path: "?", sha256: "" });
  const d: Record<string, unknown> = { user: row.end_user, path: app.path, sha256: app.sha256, requestedDuration: row.requested_duration };
  if (event.type === "approve") {
    d.approvals = parseJson<Approval[]>(set.approvals ?? row.approvals, []).map((a) => a.email);
    d.approvalsNeeded = row.approvals_needed;
    if (set.granted_duration) Object.assign(d, { grantedDuration: set.granted_duration, startsAt: set.starts_at, endsAt: set.ends_at });
    if (event.by.type === "rule") d.rule = { id: event.by.id, name: event.by.name };
    if (extra.note) d.note = extra.note;
  }
  if (event.type === "decline") d.reason = event.reason;
  // Made offline on the admin's device and synced later: when it was made there (issue 5).
  if (extra.clientAt) d.decidedOfflineAt = extra.clientAt;
  if (event.type === "revoke" || event.type === "end_early") Object.assign(d, { endedAt: set.ends_at, ...(extra.reason ? { reason: extra.reason } : {}) });
  if (event.type === "expire") d.endsAt = row.ends_at;
  return d;
}

/**
 * After a decision: tell the console, and when the bundle changes, rebuild the computer's bundle at once (waking
 * its long-poll) and remember the version that carries the decision, for "applied on the computer".
 */
async function publish(ctx: ServiceContext, o: Outcome): Promise<void> {
  ctx.feed.publish({ kind: "requests", ids: [o.row.id] });
  if (!o.changedBundle) return;
  const computer = await ctx.db.selectFrom("computers").select(["id", "name", "applied_bundle_version"]).where("id", "=", o.row.computer_id).executeTakeFirst();
  if (!computer) return;
  const granted = o.row.status === "approved";
  for (let attempt = 0; attempt < 3; attempt++) {
    await markBundlesStale(ctx, [computer.id]);
    const signed = await currentBundle(ctx, computer);
    // A rebuild that began before this decision committed may have won the race; rebuild again if so.
    if (signed.bundle.grants.some((g) => g.requestId === o.row.id) !== granted) continue;
    const version = signed.bundle.version;
    const fresh = await ctx.db.selectFrom("computers").select("applied_bundle_version").where("id", "=", computer.id).executeTakeFirst();
    const alreadyApplied = (fresh?.applied_bundle_version ?? 0) >= version;
    await ctx.db
      .updateTable("requests")
      .set({ decision_bundle_version: version, applied_at: alreadyApplied ? ctx.now().toISOString() : null })
      .where("id", "=", o.row.id)
      .where("version", "=", o.row.version)
      .execute();
    await stampForSync(ctx.db, ctx.dialect, [{ collection: "requests", id: o.row.id }], ctx.now(), ctx.feed);
    if (alreadyApplied) ctx.feed.publish({ kind: "requests", ids: [o.row.id] });
    return;
  }
  ctx.log.warn({ requestId: o.row.id }, "could not confirm which bundle version carries the decision");
}

async function decide(ctx: ServiceContext, id: string, event: RequestEvent, actor: Actor, extra: Parameters<typeof applyEvent>[4] = {}): Promise<RequestView> {
  const o = await applyEvent(ctx, id, event, actor, extra);
  await publish(ctx, o);
  return getRequest(ctx, id);
}

const userActor = (u: ConsoleUser): Actor => ({ type: "user", id: u.id, name: u.email });

/** `clientAt`: when the admin decided on their device, for a decision made offline and synced later (the outbox). */
export type OfflineOpts = { clientAt?: string | null };

export function approveRequest(ctx: ServiceContext, id: string, by: ConsoleUser, opts: { duration: string | null; note: string | null } & OfflineOpts): Promise<RequestView> {
  return decide(ctx, id, { type: "approve", by: { type: "user", id: by.id, email: by.email }, duration: opts.duration }, userActor(by), { note: opts.note, clientAt: opts.clientAt });
}

export function declineRequest(ctx: ServiceContext, id: string, by: ConsoleUser, reason: string, opts: OfflineOpts = {}): Promise<RequestView> {
  return decide(ctx, id, { type: "decline", by: { type: "user", id: by.id, email: by.email }, reason }, userActor(by), { reason, clientAt: opts.clientAt });
}

export function revokeRequest(ctx: ServiceContext, id: string, by: ConsoleUser, reason: string | null, opts: OfflineOpts = {}): Promise<RequestView> {
  return decide(ctx, id, { type: "revoke", by: { type: "user", id: by.id, email: by.email } }, userActor(by), { reason, clientAt: opts.clientAt });
}

// ── The agent's calls ────────────────────────────────────────────────────────────────────────────────

export type AgentComputer = { id: string; name: string };

export function toAgentView(v: RequestView): AgentRequestView {
  const { approvals, ...rest } = v;
  return { ...rest, approvalsSoFar: approvals.length };
}

export async function submitRequest(ctx: ServiceContext, computer: AgentComputer, input: SubmitRequest): Promise<RequestView> {
  if (input.clientRef) {
    const seen = await ctx.db.selectFrom("requests").select("id").where("computer_id", "=", computer.id).where("client_ref", "=", input.clientRef).executeTakeFirst();
    if (seen) return getRequest(ctx, seen.id);
  }
  const settings = await getSettings(ctx);
  if (!settings.requests.enabled) throw new AppError("forbidden", "Elevation requests are turned off on this server (Settings → Requests).");
  const asked = durationMs(input.duration)!;
  const max = durationMs(settings.requests.maxDuration)!;
  if (asked > max) throw new AppError("bad_request", `${input.duration} is longer than the maximum of ${describeDuration(settings.requests.maxDuration)}; ask for ${settings.requests.maxDuration} or less.`);
  const min = settings.requests.minJustificationLength;
  if (input.justification.length < min) throw new AppError("bad_request", `The justification must be at least ${min} characters (it has ${input.justification.length}): say what you need it for.`);

  let app: RequestApp = input.app;
  if (input.extendsRequestId) {
    const base = await ctx.db.selectFrom("requests").selectAll().where("id", "=", input.extendsRequestId).executeTakeFirst();
    if (!base || base.computer_id !== computer.id) throw new AppError("not_found", `No request ${input.extendsRequestId} from this computer to extend.`);
    if (base.status !== "approved" || !base.ends_at || Date.parse(base.ends_at) <= ctx.now().getTime()) {
      throw new AppError("conflict", `Request ${input.extendsRequestId} is not active (${base.status}); ask for new access instead of an extension.`);
    }
    if (normalizeUserName(base.end_user) !== normalizeUserName(input.user)) throw new AppError("forbidden", `Request ${input.extendsRequestId} is ${base.end_user}'s, not ${input.user}'s.`);
    app = parseJson<RequestApp>(base.app, input.app);
  }

  const facts = { user: input.user, computerName: computer.name, app, duration: input.duration };
  const needed = approvalsNeeded(settings.twoPersonApproval, facts);
  // A request that needs several people is never approved by a rule alone.
  const rule = needed === 1 ? matchAutonomousApproval(settings.autonomousApproval, facts).approvedBy : null;

  const now = ctx.now();
  const at = now.toISOString();
  const id = newId();
  const row: Row = {
    id,
    computer_id: computer.id,
    end_user: input.user,
    app: JSON.stringify(app),
    requested_duration: input.duration,
    justification: input.justification,
    status: "pending",
    created_at: at,
    updated_at: at,
    lapses_at: new Date(now.getTime() + durationMs(settings.requests.lapseAfter)!).toISOString(),
    decided_at: null,
    decided_by: null,
    approvals: "[]",
    approvals_needed: needed,
    granted_duration: null,
    starts_at: null,
    ends_at: null,
    note: null,
    decline_reason: null,
    revoked_by: null,
    revoke_reason: null,
    extends_request_id: input.extendsRequestId ?? null,
    client_ref: input.clientRef ?? null,
    decision_bundle_version: null,
    applied_at: null,
    version: 1,
    decided_offline_at: null,
  };
  const inserted = await ctx.db.transaction().execute(async (trx: Transaction<Database>) => {
    const r = await trx.insertInto("requests").values(row).onConflict((oc) => oc.columns(["computer_id", "client_ref"]).doNothing()).executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
    await appendEvent(
      trx,
      ctx.dialect,
      {
        type: "request.submitted",
        actor: { type: "computer", id: computer.id, name: computer.name },
        computerId: computer.id,
        requestId: id,
        endUser: input.user,
        // An Autonomous Approval rule's match is known here and decided right after this commits: notifications
        // read it from this event, so nobody is asked to decide a request that a rule approves a moment later.
        detail: {
          user: input.user,
          path: app.path,
          sha256: app.sha256,
          requestedDuration: input.duration,
          justification: input.justification,
          approvalsNeeded: needed,
          ...(input.extendsRequestId ? { extendsRequestId: input.extendsRequestId } : {}),
          ...(rule ? { autonomousApprovalRule: rule.name } : {}),
        },
      },
      now,
    );
    return true;
  });
  if (!inserted) {
    // The same queued submission arrived twice at once: the other one recorded it.
    const seen = await ctx.db.selectFrom("requests").select("id").where("computer_id", "=", computer.id).where("client_ref", "=", input.clientRef ?? "").executeTakeFirstOrThrow();
    return getRequest(ctx, seen.id);
  }
  ctx.feed.publish({ kind: "requests", ids: [id] });
  if (rule) {
    try {
      return await decide(ctx, id, { type: "approve", by: { type: "rule", id: rule.id, name: rule.name } }, { type: "rule", id: rule.id, name: `Autonomous Approval: ${rule.name}` });
    } catch (e) {
      if (!(e instanceof AppError && e.code === "conflict")) throw e;
    }
  }
  return getRequest(ctx, id);
}

export async function listRequestsForAgent(ctx: ServiceContext, computer: AgentComputer, user: string | null): Promise<RequestView[]> {
  const rows = await ctx.db.selectFrom("requests").selectAll().where("computer_id", "=", computer.id).orderBy("created_at", "desc").limit(500).execute();
  const key = user ? normalizeUserName(user) : null;
  return views(ctx, rows.filter((r) => key === null || normalizeUserName(r.end_user) === key).slice(0, 100));
}

export async function getRequestForAgent(ctx: ServiceContext, computer: AgentComputer, id: string): Promise<RequestView> {
  const row = await ctx.db.selectFrom("requests").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row || row.computer_id !== computer.id) throw new AppError("not_found", `No request ${id} from this computer.`);
  return (await views(ctx, [row]))[0]!;
}

/** Resolves when this request changes, `ms` pass, or `signal` aborts. */
export function waitForRequestChange(ctx: ServiceContext, id: string, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const unsubscribe = ctx.feed.subscribe((c) => {
      if ((c.kind === "requests" && c.ids.includes(id)) || c.kind === "resync") done();
    });
    signal.addEventListener("abort", done);
  });
}

export function cancelRequestFromAgent(ctx: ServiceContext, computer: AgentComputer, id: string): Promise<RequestView> {
  return decide(ctx, id, { type: "cancel" }, { type: "computer", id: computer.id, name: computer.name }, { onlyComputerId: computer.id });
}

export function endRequestEarly(ctx: ServiceContext, computer: AgentComputer, id: string): Promise<RequestView> {
  return decide(ctx, id, { type: "end_early" }, { type: "computer", id: computer.id, name: computer.name }, { onlyComputerId: computer.id });
}

// ── The sweeper's calls ──────────────────────────────────────────────────────────────────────────────

/** Ends every grant whose time is up and lapses every request nobody answered: one event per end. */
export async function sweepRequests(ctx: ServiceContext): Promise<{ expired: number; lapsed: number }> {
  const now = ctx.now().toISOString();
  const due = await ctx.db.selectFrom("requests").select(["id", "status"]).where("status", "=", "approved").where("ends_at", "<=", now).execute();
  const lapsing = await ctx.db.selectFrom("requests").select(["id", "status"]).where("status", "=", "pending").where("lapses_at", "<=", now).execute();
  let expired = 0;
  let lapsed = 0;
  const system: Actor = { type: "system", name: "expiry sweeper" };
  // Many grants may end in the same second (a site-wide window): end them in batches, one transaction each,
  // then rebuild each computer's bundle once, so the last of them is recorded on time too.
  const ended: Outcome[] = [];
  for (let i = 0; i < due.length; i += EXPIRE_BATCH) ended.push(...(await expireBatch(ctx, due.slice(i, i + EXPIRE_BATCH).map((r) => r.id), system)));
  expired = ended.length;
  await publishMany(ctx, ended);
  for (const r of lapsing) {
    try {
      await decide(ctx, r.id, { type: "lapse" }, system);
      lapsed++;
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
    }
  }
  return { expired, lapsed };
}

const EXPIRE_BATCH = 500;

/**
 * Expires these grants in one transaction, each by the state machine with its own conditional update and event.
 * On PostgreSQL the rows are locked first (SKIP LOCKED: a grant being revoked right now is left to the revoke),
 * before the audit chain's lock, the same order every single decision takes, so the two never deadlock.
 */
async function expireBatch(ctx: ServiceContext, ids: string[], actor: Actor): Promise<Outcome[]> {
  const now = ctx.now();
  const at = now.toISOString();
  return ctx.db.transaction().execute(async (trx) => {
    let q = trx.selectFrom("requests").selectAll().where("id", "in", ids).where("status", "=", "approved").where("ends_at", "<=", at).orderBy("id");
    if (ctx.dialect === "postgres") q = q.forUpdate().skipLocked();
    const out: Outcome[] = [];
    const events: NewEvent[] = [];
    const ending = new Map<string, Row>();
    for (const row of await q.execute()) if (!("refused" in transition(stateOf(row), { type: "expire" }, now))) ending.set(row.id, row);
    if (ending.size === 0) return out;
    // Expiry changes only the status (the state machine keeps the rest): one UPDATE for the batch. The rows are locked
    // (PostgreSQL) or the writer is alone (SQLite), and "still approved" keeps it to those nobody ended meanwhile.
    const set = { status: "expired", updated_at: at, decision_bundle_version: null, applied_at: null };
    const ended = await trx
      .updateTable("requests")
      .set((eb) => ({ ...set, version: eb("version", "+", 1) }))
      .where("id", "in", [...ending.keys()])
      .where("status", "=", "approved")
      .returning("id")
      .execute();
    const endedIds = new Set(ended.map((r) => r.id));
    for (const row of ending.values()) {
      if (!endedIds.has(row.id)) continue;
      const next: Partial<Row> = { ...set, version: row.version + 1 };
      events.push({ type: "request.expired", actor, computerId: row.computer_id, requestId: row.id, endUser: row.end_user, detail: eventDetail(row, next, { type: "expire" }, {}) });
      out.push({ row: { ...row, ...next } as Row, changedBundle: true });
    }
    // One event each, appended together (one turn of the audit chain's lock).
    await appendEvents(trx, ctx.dialect, events, now);
    return out;
  });
}

/** publish() for many outcomes at once: one change for the console, one bundle rebuild per computer. */
async function publishMany(ctx: ServiceContext, outcomes: Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  ctx.feed.publish({ kind: "requests", ids: outcomes.map((o) => o.row.id) });
  const byComputer = new Map<string, Outcome[]>();
  for (const o of outcomes.filter((x) => x.changedBundle)) byComputer.set(o.row.computer_id, [...(byComputer.get(o.row.computer_id) ?? []), o]);
  if (byComputer.size === 0) return;
  await markBundlesStale(ctx, [...byComputer.keys()]);
  for (const [computerId, group] of byComputer) {
    const computer = await ctx.db.selectFrom("computers").select(["id", "name"]).where("id", "=", computerId).executeTakeFirst();
    if (!computer) continue;
    let signed = await currentBundle(ctx, computer);
    for (let attempt = 0; attempt < 3 && group.some((o) => signed.bundle.grants.some((g) => g.requestId === o.row.id) !== (o.row.status === "approved")); attempt++) {
      await markBundlesStale(ctx, [computerId]);
      signed = await currentBundle(ctx, computer);
    }
    const version = signed.bundle.version;
    const fresh = await ctx.db.selectFrom("computers").select("applied_bundle_version").where("id", "=", computerId).executeTakeFirst();
    const alreadyApplied = (fresh?.applied_bundle_version ?? 0) >= version;
    for (const o of group) {
      await ctx.db
        .updateTable("requests")
        .set({ decision_bundle_version: version, applied_at: alreadyApplied ? ctx.now().toISOString() : null })
        .where("id", "=", o.row.id)
        .where("version", "=", o.row.version)
        .execute();
    }
    await stampForSync(ctx.db, ctx.dialect, group.map((o) => ({ collection: "requests" as const, id: o.row.id })), ctx.now(), ctx.feed);
    if (alreadyApplied) ctx.feed.publish({ kind: "requests", ids: group.map((o) => o.row.id) });
  }
}

/** The next moment the sweeper has work: the earliest end of an approved grant or lapse of a pending request. */
export async function nextSweepAt(ctx: ServiceContext): Promise<number | null> {
  const a = await ctx.db.selectFrom("requests").select((eb) => eb.fn.min("ends_at").as("t")).where("status", "=", "approved").executeTakeFirst();
  const b = await ctx.db.selectFrom("requests").select((eb) => eb.fn.min("lapses_at").as("t")).where("status", "=", "pending").executeTakeFirst();
  const times = [a?.t, b?.t].filter((t): t is string => typeof t === "string").map((t) => Date.parse(t));
  return times.length ? Math.min(...times) : null;
}

// ── Live changes for the console ─────────────────────────────────────────────────────────────────────

/** Yields `{ at, ids }` for every request change until `signal` aborts. Bursts are merged into one yield. */
export async function* requestChanges(ctx: ServiceContext, signal: AbortSignal | undefined): AsyncGenerator<{ at: string; ids: string[] }> {
  const pending = new Set<string>();
  // Changes may have been missed (another server's notices were lost): yield an empty list, "look again".
  let resync = false;
  let wake: (() => void) | null = null;
  const unsubscribe = ctx.feed.subscribe((c) => {
    if (c.kind === "resync") resync = true;
    else if (c.kind !== "requests") return;
    else for (const id of c.ids) pending.add(id);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  try {
    while (!signal?.aborted) {
      if (pending.size === 0 && !resync) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
        continue;
      }
      const ids = [...pending];
      pending.clear();
      resync = false;
      yield { at: ctx.now().toISOString(), ids };
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
  }
}
