// The dispatcher's view of a channel (webhook, email, push). A channel turns one notifiable audit event into
// deliveries (one per target, in the fan-out transaction) and later sends one delivery; the dispatcher keeps
// order per target, retries with back-off and records the outcome in notification_deliveries.
import type { Transaction } from "kysely";
import type { NotificationKind, DeliveryChannel } from "../../core/notifications";
import type { Database, EventsTable } from "../db/schema";
import type { ServiceContext } from "../services/context";

/** What a channel needs besides the services: the console's public URL (links in messages), SMTP, VAPID, … */
export type NotifyConfig = {
  /** The console's address as users reach it, for links ("https://jit.example.com"); null: links are relative. */
  publicUrl: string | null;
  /** SMTP_URL (smtp://user:pass@host:port, smtps://…); null: email is off. Never logged. */
  smtpUrl: string | null;
  /** The From: address of emails. */
  mailFrom: string;
  /** Lets webhooks and push endpoints be plain http on loopback (tests); https is required otherwise for push. */
  allowLoopbackHttp: boolean;
  /** Web push: the VAPID `sub` claim, "mailto:…" or "https://…" (default "mailto:admin@localhost"). */
  vapidSubject?: string;
};

export type NotificationEvent = { kind: NotificationKind; event: EventsTable };

export type NewDelivery = { targetId: string; payload: unknown };

export type DeliveryOutcome =
  | { ok: true; status?: number }
  /** retry: try again later (back-off); drop: the target is gone (e.g. push 404/410), stop and forget it. */
  | { ok: false; error: string; status?: number; retry: boolean; drop?: boolean };

export interface Channel {
  name: DeliveryChannel;
  /** The deliveries for one event, in the fan-out transaction (read targets through trx). */
  fanOut(ctx: ServiceContext, trx: Transaction<Database>, n: NotificationEvent): Promise<NewDelivery[]>;
  /** Sends one delivery; never throws (a throw counts as a retryable failure). */
  deliver(ctx: ServiceContext, delivery: { id: string; targetId: string; payload: unknown; attempts: number }): Promise<DeliveryOutcome>;
  /** The target disappeared (dropped): e.g. remove the push subscription. */
  onDrop?(ctx: ServiceContext, targetId: string): Promise<void>;
}
