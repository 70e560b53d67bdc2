// The one sync contract between the server and the console's RxDB store (STYLE rule 7): the replicated
// collections, each document's zod schema with its RxDB JSON schema beside it, the checkpoint, and the
// pull / push / stream shapes. The server stamps `updatedAt`; push answers with conflicts, never throws.
//
// How the browser uses it (tRPC procedures in server/routers/sync.ts):
// - pull handler, per collection:  `(checkpoint, batchSize) => trpc.sync.pull.query({ collection, checkpoint: checkpoint ?? null, limit: batchSize })`
//   → `{ documents, checkpoint }`: documents ordered by (updatedAt, id) after the checkpoint; deletions come as
//   tombstones (`_deleted: true`, placeholder fields). An empty page returns the checkpoint it was given.
// - push handler, outbox only: `(rows) => trpc.sync.push.mutate({ collection: "outbox", rows })` → `{ conflicts }`:
//   the server's state of every pushed entry (accepted or refused, with `message` for people). Let the default
//   conflict handler take the master state: the local entry then shows the outcome. Never edit another
//   collection locally: every change an admin makes is an outbox entry (`newOutboxEntry`) that the server runs
//   exactly once, as if it had been made online (role, state and limits checked again).
// - stream: `trpc.sync.stream.subscribe(undefined, { onData: ({ collection }) => … })` yields `{ collection, checkpoint }`
//   whenever that collection changed on the server: feed it to the collection's `pull.stream$` as "RESYNC" (or the checkpoint).
// - `outbox` from `null` starts at the user's newest OUTBOX_WINDOW entries.
// - `events` holds the newest EVENTS_WINDOW events: a pull from `null` starts there; keep it pruned locally. Events
//   are append-only (no tombstones) and come in the audit chain's order; their `updatedAt` is the event's time.
// - Without a session every procedure answers UNAUTHORIZED: treat it as signed out (wipe the local database). The
//   stream ends when its session does (signed out, expired, disabled, role changed): reconnect, or sign out on UNAUTHORIZED.
// - Documents are the views the online API returns, plus `updatedAt` (the server's stamp) and `_deleted`; a policy's
//   `revision` is `policyRevision` (RxDB reserves "revision"); settings are one document, id "settings", always there.
// - A request's `decidedOfflineAt` is the device time of a decision that reached the server OFFLINE_AFTER_MS or more
//   after it was made (`decidedAt` is when the server accepted it, and when it took effect).
import { z } from "zod";
import { AllowlistEntrySchema } from "./allowlist";
import { EventViewSchema } from "./audit";
import { ComputerViewSchema, PolicyViewSchema } from "./console-api";
import { DurationTextSchema, RequestViewSchema, type RequestView } from "./request";
import type { Permission } from "./roles";
import { SettingsSchema } from "./settings";

// The names, limits, each role's collections and a new outbox entry live in sync-basics.ts (no schemas there: the
// console's first-load JS takes only that part).
import { SYNC_COLLECTIONS, SYNC_PULL_LIMIT_MAX, type SyncCollection } from "./sync-basics";
export { SYNC_COLLECTIONS, SYNC_PULL_LIMIT_MAX, canPull, collectionsFor, newOutboxEntry, type SyncCollection } from "./sync-basics";
export const SyncCollectionSchema = z.enum(SYNC_COLLECTIONS);
/** A push carries at most this many outbox rows. */
export const SYNC_PUSH_ROWS_MAX = 100;
/** A fresh store replicates this many of the newest events. */
export const EVENTS_WINDOW = 500;
/** A fresh store replicates this many of its user's newest outbox entries (older outcomes stay on the server). */
export const OUTBOX_WINDOW = 200;
/** The id of the one settings document. */
export const SETTINGS_DOC_ID = "settings";

// ── Checkpoint ─────────────────────────────────────────────────────────────────────────────────────────

/** Where a pull continues: the last document's (updatedAt, id). Every later change sorts after it. */
export const CheckpointSchema = z.object({ updatedAt: z.string().min(1).max(40), id: z.string().min(1).max(200) });
export type Checkpoint = z.infer<typeof CheckpointSchema>;

/** Byte-order comparison (the databases compare these ASCII strings the same way). */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Orders two (updatedAt, id) positions: negative when `a` comes first. */
export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  return cmp(a.updatedAt, b.updatedAt) || cmp(a.id, b.id);
}

/** True when a document at `doc` comes after the checkpoint (a `null` checkpoint is the beginning). */
export function isAfterCheckpoint(doc: Checkpoint, checkpoint: Checkpoint | null): boolean {
  return checkpoint === null || compareCheckpoints(doc, checkpoint) > 0;
}

/** The checkpoint after a page: its last document's, or the one given when the page is empty. */
export function checkpointAfter(documents: readonly Checkpoint[], given: Checkpoint | null): Checkpoint | null {
  const last = documents[documents.length - 1];
  return last ? { updatedAt: last.updatedAt, id: last.id } : given;
}

/**
 * The next server stamp: strictly after the previous one, and now when the clock is ahead of it.
 * Two writes in the same millisecond get consecutive milliseconds, so a checkpoint never skips a row.
 */
export function nextStamp(previous: string | null, now: Date): string {
  const prev = previous ? Date.parse(previous) : Number.NEGATIVE_INFINITY;
  return new Date(Math.max(now.getTime(), prev + 1)).toISOString();
}

// ── Documents: zod and RxDB JSON schema side by side ───────────────────────────────────────────────────

/** Every replicated document carries these: the server's stamp and the tombstone flag. */
const syncFields = { updatedAt: z.string().min(1).max(40), _deleted: z.boolean() };

type JsonSchema = Record<string, unknown>;
const s = (maxLength?: number): JsonSchema => (maxLength ? { type: "string", maxLength } : { type: "string" });
const ns: JsonSchema = { type: ["string", "null"] };
const int: JsonSchema = { type: "integer" };
const nint: JsonSchema = { type: ["integer", "null"] };
const bool: JsonSchema = { type: "boolean" };
const obj = (properties: Record<string, JsonSchema>, required = Object.keys(properties), nullable = false): JsonSchema => ({
  type: nullable ? ["object", "null"] : "object",
  properties,
  required,
});
const anyObject: JsonSchema = { type: "object" };
const strings: JsonSchema = { type: "array", items: { type: "string" } };
/** An app rule (core/app-rule.ts): its type, and the one or two fields of that type. */
const appRule: JsonSchema = { type: "object", properties: { type: s(40) }, required: ["type"] };
const STAMP = s(40);
const ID = s(200);

/**
 * An RxDB collection schema (primary key `id`). `_deleted` is RxDB's own and not listed.
 * Indexes only where a screen queries by them: each one is written for every stored document (a first sync writes
 * 10,000 requests), and the lists sort in memory. A change of indexes needs a new `version`: the collection then
 * gets a new local store, pulled from the start (the console's pull checkpoint is kept per version).
 */
export type SyncJsonSchema = {
  version: number;
  primaryKey: "id";
  type: "object";
  properties: Record<string, JsonSchema>;
  required: string[];
  indexes?: string[][];
};
function rx(properties: Record<string, JsonSchema>, indexes: string[][], version = 0, optional: string[] = []): SyncJsonSchema {
  return { version, primaryKey: "id", type: "object", properties, required: Object.keys(properties).filter((k) => !optional.includes(k)), indexes };
}

// policies. `revision` is a reserved name in RxDB documents: the policy's revision replicates as `policyRevision`.
export const PolicyDocSchema = PolicyViewSchema.omit({ revision: true }).extend({ policyRevision: z.number().int(), ...syncFields });
export type PolicyDoc = z.infer<typeof PolicyDocSchema>;
export const policyJsonSchema = rx(
  {
    id: ID,
    name: s(200),
    description: s(),
    computers: strings,
    users: { anyOf: [{ type: "string", enum: ["all"] }, strings] },
    duration: { type: "object", properties: { type: { type: "string", enum: ["fixed", "window"] } }, required: ["type"] },
    applications: { anyOf: [{ type: "string", enum: ["allAllowed"] }, { type: "array", items: appRule }] },
    status: s(20),
    policyRevision: int,
    deployedAt: ns,
    createdAt: s(40),
    updatedAt: STAMP,
    effectiveStatus: s(20),
    startsAt: ns,
    endsAt: ns,
  },
  [], // the list sorts in memory (version 1: no indexes)
  1,
);

// allowlist
export const AllowlistDocSchema = AllowlistEntrySchema.extend(syncFields);
export type AllowlistDoc = z.infer<typeof AllowlistDocSchema>;
export const allowlistJsonSchema = rx({ id: ID, name: s(200), description: s(), rule: appRule, createdAt: s(40), updatedAt: STAMP }, [], 1);

// requests (`applied.computerLastSeenAt` is as of the request's last change: read the computer for a live one)
export const RequestDocSchema = RequestViewSchema.extend({ decidedOfflineAt: z.string().nullable(), ...syncFields });
export type RequestDoc = z.infer<typeof RequestDocSchema>;
const decider = obj({ type: s(), id: s(), name: s() }, undefined, true);
export const requestJsonSchema = rx(
  {
    id: ID,
    computer: obj({ id: s(), name: s() }),
    user: s(),
    app: obj({ path: s(), sha256: s() }),
    requestedDuration: s(),
    justification: s(),
    status: s(20),
    createdAt: s(40),
    waitingSince: s(40),
    decidedAt: ns,
    decidedBy: decider,
    decidedOfflineAt: ns,
    approvals: { type: "array", items: obj({ userId: s(), email: s(), at: s() }) },
    approvalsNeeded: int,
    grantedDuration: ns,
    startsAt: ns,
    endsAt: ns,
    note: ns,
    declineReason: ns,
    revokedBy: obj({ type: s(), id: ns, name: s() }, undefined, true),
    revokeReason: ns,
    extendsRequestId: ns,
    lapsesAt: ns,
    applied: obj({ bundleVersion: nint, appliedAt: ns, computerLastSeenAt: ns }),
    updatedAt: STAMP,
  },
  [["status", "updatedAt"]], // the Pending and Active tabs; History sorts in memory (version 1: this one only)
  1,
);

// computers
export const ComputerDocSchema = ComputerViewSchema.extend(syncFields);
export type ComputerDoc = z.infer<typeof ComputerDocSchema>;
export const computerJsonSchema = rx(
  { id: ID, name: s(300), os: s(), agentVersion: s(), enrolledAt: s(40), lastSeenAt: ns, bundleVersion: nint, latestBundleVersion: nint, updatedAt: STAMP },
  [],
  1,
);

// events (the newest EVENTS_WINDOW)
export const EventDocSchema = EventViewSchema.extend(syncFields);
export type EventDoc = z.infer<typeof EventDocSchema>;
export const eventJsonSchema = rx(
  {
    id: ID,
    seq: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER, multipleOf: 1 },
    at: s(40),
    type: s(),
    label: s(),
    actor: obj({ type: s(), id: ns, name: ns }),
    endUser: ns,
    policyId: ns,
    computerId: ns,
    requestId: ns,
    detail: anyObject,
    hash: s(),
    prevHash: s(),
    updatedAt: STAMP,
  },
  [["seq"]], // newest first (version 1: without `at`)
  1,
);

// settings: one document, id "settings"
export const SettingsDocSchema = z.object({
  id: z.literal(SETTINGS_DOC_ID),
  requests: SettingsSchema.shape.requests.unwrap(),
  autonomousApproval: SettingsSchema.shape.autonomousApproval.unwrap(),
  twoPersonApproval: SettingsSchema.shape.twoPersonApproval.unwrap(),
  ...syncFields,
});
export type SettingsDoc = z.infer<typeof SettingsDocSchema>;
export const settingsJsonSchema = rx(
  {
    id: s(20),
    requests: obj({ enabled: bool, maxDuration: s(), minJustificationLength: int, lapseAfter: s() }),
    autonomousApproval: obj({ enabled: bool, rules: { type: "array", items: anyObject } }),
    twoPersonApproval: obj({ enabled: bool, approvalsRequired: int, highRiskApplications: { type: "array", items: appRule }, longerThan: ns }),
    updatedAt: STAMP,
  },
  [],
);

// ── The outbox: every change an admin makes, online or offline ────────────────────────────────────────

export const OUTBOX_KINDS = [
  "request.approve",
  "request.decline",
  "request.revoke",
  "policy.create",
  "policy.update",
  "policy.deploy",
  "policy.disable",
  "settings.update",
] as const;
export const OutboxKindSchema = z.enum(OUTBOX_KINDS);
export type OutboxKind = z.infer<typeof OutboxKindSchema>;

export const OUTBOX_STATUSES = ["waiting", "accepted", "refused"] as const;
export const OutboxStatusSchema = z.enum(OUTBOX_STATUSES);
export type OutboxStatus = z.infer<typeof OutboxStatusSchema>;

const requestId = z.string().min(1).max(100);
const text = (max: number) => z.string().trim().max(max);

/** Each kind's payload: the same input as the online tRPC mutation (requests.approve, policies.update, …). */
export const OUTBOX_PAYLOAD_SCHEMAS = {
  "request.approve": z.object({ id: requestId, duration: DurationTextSchema.optional(), note: text(2000).optional() }),
  "request.decline": z.object({ id: requestId, reason: text(2000).min(1, "give a reason for declining") }),
  "request.revoke": z.object({ id: requestId, reason: text(2000).optional() }),
  /** A policy file / the Create → Application Elevation form (parsed by the policy file's own parser). */
  "policy.create": z.record(z.string(), z.unknown()),
  "policy.update": z.object({ id: requestId, policy: z.record(z.string(), z.unknown()) }),
  "policy.deploy": z.object({ id: requestId }),
  "policy.disable": z.object({ id: requestId }),
  "settings.update": SettingsSchema,
} as const satisfies Record<OutboxKind, z.ZodType>;
export type OutboxPayload<K extends OutboxKind> = z.input<(typeof OUTBOX_PAYLOAD_SCHEMAS)[K]>;

/** The permission each kind needs, the same as its online mutation's. */
export const OUTBOX_PERMISSION: Record<OutboxKind, Permission> = {
  "request.approve": "requests.decide",
  "request.decline": "requests.decide",
  "request.revoke": "requests.decide",
  "policy.create": "policies.write",
  "policy.update": "policies.write",
  "policy.deploy": "policies.write",
  "policy.disable": "policies.write",
  "settings.update": "settings.write",
};

export const OutboxEntrySchema = z.object({
  /** A UUID the console makes: the entry runs once however often it is pushed. */
  id: z.string().min(8).max(100),
  kind: OutboxKindSchema,
  payload: z.record(z.string(), z.unknown()),
  /** When the admin did it, on their device (ISO 8601). */
  clientAt: z.iso.datetime({ offset: true }),
  status: OutboxStatusSchema,
  /** For people: why it was refused, or what it did. */
  message: z.string().nullable(),
  /** When the server ran it. */
  serverAt: z.string().nullable(),
  /** What the service returned (the request or policy after the change), or null. */
  result: z.record(z.string(), z.unknown()).nullable(),
  ...syncFields,
});
export type OutboxEntry = z.infer<typeof OutboxEntrySchema>;
export const outboxJsonSchema = rx(
  {
    id: s(100),
    kind: s(40),
    payload: anyObject,
    clientAt: s(40),
    status: s(20),
    message: ns,
    serverAt: ns,
    result: { type: ["object", "null"] },
    updatedAt: STAMP,
  },
  [["status", "clientAt"], ["updatedAt"]],
);

/**
 * A write that reaches the server this much later than the admin made it counts as made offline: the request
 * record keeps the device's time beside the server's (decidedOfflineAt). Closer than this, it was online.
 */
export const OFFLINE_AFTER_MS = 10_000;
export function offlineTime(clientAt: string, serverNow: Date): string | null {
  const t = Date.parse(clientAt);
  return Number.isFinite(t) && serverNow.getTime() - t >= OFFLINE_AFTER_MS ? new Date(t).toISOString() : null;
}


// ── Per collection ─────────────────────────────────────────────────────────────────────────────────────

export const SYNC_DOC_SCHEMAS = {
  policies: PolicyDocSchema,
  allowlist: AllowlistDocSchema,
  requests: RequestDocSchema,
  computers: ComputerDocSchema,
  events: EventDocSchema,
  settings: SettingsDocSchema,
  outbox: OutboxEntrySchema,
} as const satisfies Record<SyncCollection, z.ZodType>;
export type SyncDocument<C extends SyncCollection> = z.infer<(typeof SYNC_DOC_SCHEMAS)[C]>;

export const SYNC_JSON_SCHEMAS: Record<SyncCollection, SyncJsonSchema> = {
  policies: policyJsonSchema,
  allowlist: allowlistJsonSchema,
  requests: requestJsonSchema,
  computers: computerJsonSchema,
  events: eventJsonSchema,
  settings: settingsJsonSchema,
  outbox: outboxJsonSchema,
};


/**
 * A deletion as replicated: the id, the stamp, `_deleted: true`, and placeholder fields so the tombstone
 * is valid for the collection's schemas (RxDB validates deleted documents too).
 */
export function tombstone<C extends SyncCollection>(collection: C, id: string, updatedAt: string): SyncDocument<C> {
  const blank: Record<SyncCollection, Record<string, unknown>> = {
    policies: {
      name: "",
      description: "",
      computers: [],
      users: "all",
      duration: { type: "fixed", length: "1h" },
      applications: "allAllowed",
      status: "draft",
      policyRevision: 0,
      deployedAt: null,
      createdAt: updatedAt,
      effectiveStatus: "draft",
      startsAt: null,
      endsAt: null,
    },
    allowlist: { name: "", description: "", rule: { type: "vendor", vendor: "-" }, createdAt: updatedAt },
    requests: {
      computer: { id: "", name: "" },
      user: "",
      app: { path: "-", sha256: "0".repeat(64) },
      requestedDuration: "1h",
      justification: "",
      status: "cancelled",
      createdAt: updatedAt,
      waitingSince: updatedAt,
      decidedAt: null,
      decidedBy: null,
      decidedOfflineAt: null,
      approvals: [],
      approvalsNeeded: 1,
      grantedDuration: null,
      startsAt: null,
      endsAt: null,
      note: null,
      declineReason: null,
      revokedBy: null,
      revokeReason: null,
      extendsRequestId: null,
      lapsesAt: null,
      applied: { bundleVersion: null, appliedAt: null, computerLastSeenAt: null },
    },
    computers: { name: "", os: "", agentVersion: "", enrolledAt: updatedAt, lastSeenAt: null, bundleVersion: null, latestBundleVersion: null },
    events: {
      seq: 0,
      at: updatedAt,
      type: "",
      label: "",
      actor: { type: "system", id: null, name: null },
      endUser: null,
      policyId: null,
      computerId: null,
      requestId: null,
      detail: {},
      hash: "",
      prevHash: "",
    },
    settings: SettingsSchema.parse({}),
    outbox: { kind: "policy.deploy", payload: {}, clientAt: updatedAt, status: "refused", message: null, serverAt: null, result: null },
  };
  return { ...blank[collection], id, updatedAt, _deleted: true } as SyncDocument<C>;
}

// ── Procedures ─────────────────────────────────────────────────────────────────────────────────────────

export const PullInputSchema = z.object({
  collection: SyncCollectionSchema,
  checkpoint: CheckpointSchema.nullable(),
  limit: z.number().int().min(1).max(SYNC_PULL_LIMIT_MAX).default(200),
});
export type PullInput = z.input<typeof PullInputSchema>;

/** Documents of the asked collection (validated by its schema on the server), oldest stamp first. */
export const PullOutputSchema = z.object({
  documents: z.array(z.looseObject({ id: z.string(), updatedAt: z.string(), _deleted: z.boolean() })),
  checkpoint: CheckpointSchema.nullable(),
});
export type PullResult<C extends SyncCollection = SyncCollection> = { documents: SyncDocument<C>[]; checkpoint: Checkpoint | null };

/** RxDB's push row. A pushed entry is checked by OutboxEntrySchema on the server (unknown fields dropped). */
export const PushRowSchema = z.object({
  assumedMasterState: z.looseObject({}).nullish(),
  newDocumentState: z.looseObject({}),
});
export const PushInputSchema = z.object({ collection: z.literal("outbox"), rows: z.array(PushRowSchema).max(SYNC_PUSH_ROWS_MAX) });
export type PushInput = z.input<typeof PushInputSchema>;
/** The server's state of each pushed entry: RxDB takes it as the master state. */
export const PushOutputSchema = z.object({ conflicts: z.array(OutboxEntrySchema) });
export type PushResult = z.infer<typeof PushOutputSchema>;

/** What the stream yields: pull this collection again (from your checkpoint; the one given is the server's newest). */
export const StreamEventSchema = z.object({ collection: SyncCollectionSchema, checkpoint: CheckpointSchema.nullable() });
export type StreamEvent = z.infer<typeof StreamEventSchema>;

// ── Messages for a write that lost a race ──────────────────────────────────────────────────────────────

/** "3 min", "40 s", "2 h 5 min". */
export function describeInterval(ms: number): string {
  const sec = Math.max(0, Math.round(ms / 1000));
  if (sec < 60) return `${sec} s`;
  const min = Math.round(sec / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const m = min % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

const VERB: Partial<Record<OutboxKind, string>> = { "request.approve": "approval", "request.decline": "decline", "request.revoke": "revoke" };

/**
 * Why an offline decision on a request lost: "Declined by dana@example.com 3 min before your approval reached
 * the server." `now` is when the server received it; `clientAt` when the admin decided on their device.
 */
export function lostRaceMessage(kind: OutboxKind, request: Pick<RequestView, "status" | "decidedAt" | "decidedBy" | "endsAt" | "revokedBy" | "user">, now: Date, clientAt: string | null): string | null {
  const yours = VERB[kind] ?? "change";
  const before = (at: string | null) => (at ? ` ${describeInterval(now.getTime() - Date.parse(at))} before your ${yours} reached the server` : "");
  let what: string;
  let at: string | null;
  switch (request.status) {
    case "approved":
      if (kind === "request.revoke") return null;
      what = `Approved by ${request.decidedBy?.name ?? "someone"}`;
      at = request.decidedAt;
      break;
    case "declined":
      what = `Declined by ${request.decidedBy?.name ?? "someone"}`;
      at = request.decidedAt;
      break;
    case "revoked":
      what = `Revoked by ${request.revokedBy?.name ?? "someone"}`;
      at = request.endsAt;
      break;
    case "expired":
      what = "Expired";
      at = request.endsAt;
      break;
    case "cancelled":
      what = `Cancelled by ${request.user}`;
      at = null;
      break;
    case "lapsed":
      what = "Lapsed (nobody answered it in time)";
      at = null;
      break;
    default:
      return null;
  }
  const offline = clientAt && at && Date.parse(clientAt) < Date.parse(at) ? ` You decided at ${clientAt.slice(11, 16)} UTC, offline; a decision counts when it reaches the server.` : "";
  return `${what}${before(at)}.${offline}`;
}
