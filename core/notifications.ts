// Notifications (issue 9): which audit events approvers, admins and their chat rooms are told about, in the
// console's words. The dispatcher (server/notify) tails the audit trail and sends these; nothing else is sent.
import { z } from "zod";
import type { EventType } from "./events";
import { can, type Role } from "./roles";

export const NOTIFICATION_KINDS = ["request.submitted", "request.decided", "grant.ended", "policy.deployed", "audit.verify_failed"] as const;
export const NotificationKindSchema = z.enum(NOTIFICATION_KINDS);
export type NotificationKind = z.infer<typeof NotificationKindSchema>;

export const NOTIFICATION_KIND_LABELS: Record<NotificationKind, string> = {
  "request.submitted": "Request submitted",
  "request.decided": "Request decided",
  "grant.ended": "Elevation ended",
  "policy.deployed": "Policy deployed",
  "audit.verify_failed": "Audit verification failed",
};

/** The audit event types behind each kind. */
export const KIND_OF_EVENT: Partial<Record<EventType, NotificationKind>> = {
  "request.submitted": "request.submitted",
  "request.approved": "request.decided",
  "request.declined": "request.decided",
  "request.expired": "grant.ended",
  "request.revoked": "grant.ended",
  "request.ended_early": "grant.ended",
  "policy.deployed": "policy.deployed",
  "audit.verify_failed": "audit.verify_failed",
};

export function notificationKindOf(type: string): NotificationKind | null {
  return (KIND_OF_EVENT as Record<string, NotificationKind | undefined>)[type] ?? null;
}

export const WEBHOOK_FORMATS = ["generic", "slack", "teams"] as const;
export const WebhookFormatSchema = z.enum(WEBHOOK_FORMATS);
export type WebhookFormat = z.infer<typeof WebhookFormatSchema>;
export const WEBHOOK_FORMAT_LABELS: Record<WebhookFormat, string> = { generic: "Generic JSON", slack: "Slack", teams: "Microsoft Teams" };

export const DELIVERY_STATUSES = ["pending", "delivered", "failed", "dropped"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type DeliveryChannel = "webhook" | "email" | "push";

/** The kinds a console role may be told about: requests and grants only where the role decides requests. */
export function notificationKindsFor(role: Role): NotificationKind[] {
  return NOTIFICATION_KINDS.filter((k) => (k === "policy.deployed" ? can(role, "policies.read") : k === "audit.verify_failed" ? can(role, "events.read") : can(role, "requests.decide")));
}

/** Back-off before retry number `attempt` (1 = the first retry): base·2^(attempt-1), capped, with ±20 % jitter (`random` in [0, 1)). */
export function retryDelayMs(attempt: number, opts: { baseMs: number; capMs: number }, random: number): number {
  const plain = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.max(0, Math.round(plain * (0.8 + 0.4 * random)));
}

// ---- The console's API (server/routers/notifications.ts) -------------------------------------------------------

export const WebhookInputSchema = z.object({
  name: z.string().trim().min(1, "Give the webhook a name").max(100, "At most 100 characters"),
  url: z
    .string()
    .trim()
    .max(2000, "At most 2000 characters")
    .refine((u) => /^https?:\/\/[^/]/i.test(u), "Enter a full URL starting with https:// (or http://)"),
  events: z.array(NotificationKindSchema).min(1, "Choose at least one event").max(NOTIFICATION_KINDS.length),
  format: WebhookFormatSchema,
  enabled: z.boolean().default(true),
});
export type WebhookInput = z.input<typeof WebhookInputSchema>;

export const WebhookViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  events: z.array(NotificationKindSchema),
  format: WebhookFormatSchema,
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  pending: z.number().int(),
  failed: z.number().int(),
  lastDelivery: z.object({ status: z.enum(DELIVERY_STATUSES), at: z.string(), error: z.string().nullable() }).nullable(),
});
export type WebhookView = z.infer<typeof WebhookViewSchema>;

export const DeliveryViewSchema = z.object({
  id: z.string(),
  eventSeq: z.number().int(),
  eventType: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
});
export type DeliveryView = z.infer<typeof DeliveryViewSchema>;

export const TestResultSchema = z.object({ ok: z.boolean(), status: z.number().int().nullable(), error: z.string().nullable() });

export const EmailPrefsSchema = z.object({ enabled: z.boolean(), events: z.array(NotificationKindSchema) });
export type EmailPrefs = z.infer<typeof EmailPrefsSchema>;
export const EmailPrefsViewSchema = EmailPrefsSchema.extend({
  /** The kinds this user's role may choose. */
  offered: z.array(NotificationKindSchema),
  /** Whether the server can send email at all (SMTP_URL set). */
  available: z.boolean(),
  address: z.string(),
});
