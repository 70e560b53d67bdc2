// The audit trail as the console, jit-ctl and the export read it: the filter, the event view, the export formats
// (CSV, JSON Lines, RFC 5424 syslog), the verification result and the signed checkpoint's bytes. Pure: no I/O.
import { z } from "zod";
import { canonicalJson } from "./canonical-json";
import { EVENT_TYPE_NAMES, EVENT_TYPES, type EventType } from "./events";

export const EventTypeSchema = z.enum(EVENT_TYPE_NAMES as [EventType, ...EventType[]]);

/** Empty text means "any" (the server ignores an empty filter). */
const optionalText = z.string().trim().max(200).optional();

/** The Events report's filters; every field optional, all of them must hold (AND). */
export const EventFilterSchema = z.object({
  /** From this time (inclusive), ISO 8601. */
  from: z.iso.datetime({ offset: true }).optional(),
  /** Up to this time (exclusive), ISO 8601. */
  to: z.iso.datetime({ offset: true }).optional(),
  types: z.array(EventTypeSchema).max(EVENT_TYPE_NAMES.length).optional(),
  computerId: optionalText,
  /** The account on a computer, exactly as the agent reported it. */
  endUser: optionalText,
  /** A console user's id or email. */
  consoleUser: optionalText,
  policyId: optionalText,
  requestId: optionalText,
  /** Words that must all appear in the justification (case-insensitive). */
  text: optionalText,
});
export type EventFilter = z.infer<typeof EventFilterSchema>;

export const EVENT_PAGE_MAX = 200;
export const EventListInputSchema = z.object({
  filter: EventFilterSchema.default({}),
  /** Keyset paging: events older than this sequence number (newest first). */
  before: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(EVENT_PAGE_MAX).default(50),
});
export type EventListInput = z.input<typeof EventListInputSchema>;

export const ActorTypeSchema = z.enum(["user", "computer", "system", "rule"]);
export const EventViewSchema = z.object({
  seq: z.number().int(),
  id: z.string(),
  at: z.string(),
  type: z.string(),
  /** The type's words, e.g. "Policy deployed". */
  label: z.string(),
  actor: z.object({ type: ActorTypeSchema, id: z.string().nullable(), name: z.string().nullable() }),
  endUser: z.string().nullable(),
  policyId: z.string().nullable(),
  computerId: z.string().nullable(),
  requestId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
  hash: z.string(),
  prevHash: z.string(),
});
export type EventView = z.infer<typeof EventViewSchema>;

export const EventPageSchema = z.object({ events: z.array(EventViewSchema), nextBefore: z.number().int().nullable() });
export type EventPage = z.infer<typeof EventPageSchema>;

export function eventLabel(type: string): string {
  return (EVENT_TYPES as Record<string, string>)[type] ?? type;
}

/** Who did it, in words: "alice@example.com", "build-01 (bob)", "System". */
export function describeActor(e: Pick<EventView, "actor" | "endUser">): string {
  const name = e.actor.name ?? e.actor.id ?? "";
  if (e.actor.type === "computer") return e.endUser ? `${name} (${e.endUser})` : name;
  if (e.actor.type === "system") return name ? `System (${name})` : "System";
  if (e.actor.type === "rule") return `Rule ${name}`;
  return name;
}

// ---- Export formats ----------------------------------------------------------------------------------------

export const EXPORT_FORMATS = ["csv", "jsonl"] as const;
export const ExportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

export const CSV_COLUMNS = ["seq", "time", "type", "event", "actor_type", "actor", "end_user", "computer_id", "policy_id", "request_id", "justification", "detail", "hash"] as const;

/** One CSV field (RFC 4180): quoted when needed, and a leading = + - @ defused so a spreadsheet never runs it. */
export function csvField(value: string): string {
  let v = value;
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export const CSV_HEADER = `${CSV_COLUMNS.join(",")}\r\n`;

export function csvLine(e: EventView): string {
  const justification = typeof e.detail.justification === "string" ? e.detail.justification : "";
  const cells = [
    String(e.seq),
    e.at,
    e.type,
    eventLabel(e.type),
    e.actor.type,
    describeActor({ actor: e.actor, endUser: null }),
    e.endUser ?? "",
    e.computerId ?? "",
    e.policyId ?? "",
    e.requestId ?? "",
    justification,
    canonicalJson(e.detail),
    e.hash,
  ];
  return `${cells.map(csvField).join(",")}\r\n`;
}

export function jsonLine(e: EventView): string {
  return `${JSON.stringify(e)}\n`;
}

/**
 * One RFC 5424 syslog message: facility 13 (log audit), severity notice (5) for denials and failed sign-ins,
 * informational (6) otherwise; MSGID is the event type; structured data carries seq and id (to deduplicate
 * after a reconnect); MSG is the event as JSON.
 */
export function syslogMessage(e: EventView, hostname: string, procId: string): string {
  const severity = e.type === "agent.elevation_denied" || e.type === "console.sign_in_failed" ? 5 : 6;
  const pri = 13 * 8 + severity;
  const host = sdSafe(hostname).slice(0, 255) || "-";
  const sd = `[jit@32473 seq="${e.seq}" id="${sdParam(e.id)}"]`;
  return `<${pri}>1 ${e.at} ${host} jit-access ${sdSafe(procId) || "-"} ${sdSafe(e.type).slice(0, 32)} ${sd} ${JSON.stringify(e)}`;
}

function sdSafe(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, "");
}
function sdParam(s: string): string {
  return s.replace(/["\\\]]/g, (c) => `\\${c}`);
}

// ---- Verification and checkpoints ----------------------------------------------------------------------

export const VerificationSchema = z.object({
  ok: z.boolean(),
  at: z.string(),
  /** Events checked, and the range walked. */
  checked: z.number().int(),
  firstSeq: z.number().int().nullable(),
  lastSeq: z.number().int().nullable(),
  /** The first sequence number where the chain is broken, and what is wrong there. */
  badSeq: z.number().int().nullable(),
  problem: z.string().nullable(),
  /** The checkpoint the walk started from (after retention pruned older events), if any. */
  checkpointSeq: z.number().int().nullable(),
  by: z.string().nullable(),
});
export type Verification = z.infer<typeof VerificationSchema>;

export type CheckpointBody = {
  seq: number;
  hash: string;
  fromSeq: number;
  eventCount: number;
  lastAt: string;
  archiveFile: string;
  archiveSha256: string;
  createdAt: string;
};

/** The bytes a checkpoint's Ed25519 signature is over. */
export function checkpointSigningBytes(c: CheckpointBody): Uint8Array {
  return new TextEncoder().encode(canonicalJson({ kind: "jit-audit-checkpoint", ...c }));
}

export const RetentionSchema = z.object({
  /** Keep events this many days; null keeps them for ever. */
  days: z.number().int().min(1).max(36500).nullable(),
});
export type Retention = z.infer<typeof RetentionSchema>;
