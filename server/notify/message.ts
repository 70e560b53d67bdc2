// What a notification says about one audit event, in the console's words: read once at fan-out (the event row and
// the request, computer and policy it names), so every channel and every retry tells the same story.
import type { Transaction } from "kysely";
import { NOTIFICATION_KIND_LABELS, type NotificationKind } from "../../core/notifications";
import { describeDuration } from "../../core/duration";
import type { Database, EventsTable } from "../db/schema";

export type NotificationMessage = {
  kind: NotificationKind;
  /** The audit event: its seq (the order), id, type and time. */
  seq: number;
  eventId: string;
  eventType: string;
  at: string;
  /** One line for a subject or a chat preview. */
  title: string;
  /** A few lines for people. */
  text: string;
  /** Straight to the request, policy or audit page (absolute when PUBLIC_URL is set). */
  link: string;
  actor: { type: string; name: string | null };
  request?: {
    id: string;
    user: string;
    computer: { id: string; name: string | null };
    app: { path: string; sha256: string | null };
    justification: string | null;
    status: string | null;
    requestedDuration: string | null;
    grantedDuration: string | null;
    /** approved / declined, with the note or reason (request.decided only). */
    decision: { outcome: "approved" | "declined"; by: string | null; note: string | null } | null;
  };
  policy?: { id: string; name: string | null; revision: number | null };
  audit?: { badSeq: number | null; problem: string | null };
};

function detailOf(e: EventsTable): Record<string, unknown> {
  try {
    const d = JSON.parse(e.detail) as unknown;
    return d && typeof d === "object" ? (d as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);

export function linkTo(publicUrl: string | null, path: string): string {
  return `${publicUrl ?? ""}${path}`;
}

/** One message per event and fan-out, however many channels ask (they get the same event row object). */
const built = new WeakMap<EventsTable, Promise<NotificationMessage>>();

export function messageFor(trx: Transaction<Database>, publicUrl: string | null, kind: NotificationKind, e: EventsTable): Promise<NotificationMessage> {
  let m = built.get(e);
  if (!m) {
    m = buildMessage(trx, publicUrl, kind, e);
    built.set(e, m);
  }
  return m;
}

export async function buildMessage(trx: Transaction<Database>, publicUrl: string | null, kind: NotificationKind, e: EventsTable): Promise<NotificationMessage> {
  const d = detailOf(e);
  const base = { kind, seq: Number(e.seq), eventId: e.id, eventType: e.type, at: e.at, actor: { type: e.actor_type, name: e.actor_name } };

  if (kind === "policy.deployed") {
    const p = e.policy_id ? await trx.selectFrom("policies").select(["id", "name"]).where("id", "=", e.policy_id).executeTakeFirst() : undefined;
    const name = p?.name ?? null;
    return {
      ...base,
      title: `Policy deployed: ${name ?? e.policy_id ?? "?"}`,
      text: `${e.actor_name ?? "Someone"} deployed the policy "${name ?? e.policy_id ?? "?"}"${typeof d.revision === "number" ? ` (revision ${d.revision})` : ""}.`,
      link: linkTo(publicUrl, e.policy_id ? `/policies/${encodeURIComponent(e.policy_id)}` : "/policies"),
      policy: { id: e.policy_id ?? "", name, revision: typeof d.revision === "number" ? d.revision : null },
    };
  }
  if (kind === "audit.verify_failed") {
    const badSeq = typeof d.badSeq === "number" ? d.badSeq : null;
    const problem = str(d.problem);
    return {
      ...base,
      title: "Audit trail verification failed",
      text: `The audit trail does not verify${badSeq !== null ? ` from event #${badSeq}` : ""}: ${problem ?? "see the console"}.`,
      link: linkTo(publicUrl, "/events"),
      audit: { badSeq, problem },
    };
  }

  // Requests: submitted, decided, ended.
  const r = e.request_id ? await trx.selectFrom("requests").selectAll().where("id", "=", e.request_id).executeTakeFirst() : undefined;
  const computerId = e.computer_id ?? r?.computer_id ?? "";
  const c = computerId ? await trx.selectFrom("computers").select(["name"]).where("id", "=", computerId).executeTakeFirst() : undefined;
  const user = str(d.user) ?? e.end_user ?? r?.end_user ?? "?";
  const path = str(d.path) ?? "?";
  const justification = str(d.justification) ?? r?.justification ?? null;
  const computerName = c?.name ?? null;
  const where = `${user} on ${computerName ?? computerId}`;
  const decision =
    kind === "request.decided"
      ? e.type === "request.approved"
        ? { outcome: "approved" as const, by: e.actor_name, note: str(d.note) }
        : { outcome: "declined" as const, by: e.actor_name, note: str(d.reason) }
      : null;
  let title: string;
  let text: string;
  if (kind === "request.submitted") {
    title = `Elevation request: ${where}`;
    const rule = str(d.autonomousApprovalRule);
    text =
      `${where} asks to run ${path} as administrator for ${describeDuration(str(d.requestedDuration) ?? "?")}.` +
      `${rule ? ` The Autonomous Approval rule "${rule}" approves it at once: nothing to decide.` : ""}${justification ? `\nJustification: ${justification}` : ""}`;
  } else if (decision) {
    const granted = str(d.grantedDuration);
    title = `Request ${decision.outcome}: ${where}`;
    text =
      `${decision.by ?? "Someone"} ${decision.outcome} ${user}'s request to run ${path} on ${computerName ?? computerId}` +
      `${decision.outcome === "approved" && granted ? ` for ${describeDuration(granted)}` : ""}.${decision.note ? `\n${decision.outcome === "approved" ? "Note" : "Reason"}: ${decision.note}` : ""}`;
  } else {
    const how = e.type === "request.expired" ? "expired" : e.type === "request.revoked" ? `was revoked by ${e.actor_name ?? "someone"}` : "was ended early by the user";
    title = `Elevation ended: ${where}`;
    text = `${user}'s elevation for ${path} on ${computerName ?? computerId} ${how}.${str(d.reason) ? `\nReason: ${str(d.reason)}` : ""}`;
  }
  return {
    ...base,
    title,
    text,
    link: linkTo(publicUrl, e.request_id ? `/requests/${encodeURIComponent(e.request_id)}` : "/requests"),
    request: {
      id: e.request_id ?? "",
      user,
      computer: { id: computerId, name: computerName },
      app: { path, sha256: str(d.sha256) },
      justification,
      status: r?.status ?? null,
      requestedDuration: str(d.requestedDuration) ?? r?.requested_duration ?? null,
      grantedDuration: str(d.grantedDuration) ?? r?.granted_duration ?? null,
      decision,
    },
  };
}

export const kindLabel = (k: NotificationKind): string => NOTIFICATION_KIND_LABELS[k];

/** The Autonomous Approval rule a request.submitted event says will approve it at once, if any. */
export function autonomousRuleOf(detailJson: string): string | null {
  try {
    const rule = (JSON.parse(detailJson) as { autonomousApprovalRule?: unknown }).autonomousApprovalRule;
    return typeof rule === "string" ? rule : null;
  } catch {
    return null;
  }
}
