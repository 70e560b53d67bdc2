// Notifications (issue 9): which audit events approvers, admins and their chat rooms are told about, in the
// console's words. The dispatcher (server/notify) tails the audit trail and sends these; nothing else is sent.
import { z } from "zod";
import type { EventType } from "./events";

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
