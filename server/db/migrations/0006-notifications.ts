// Migration 0006: notifications (issue 9). Approvers' push subscriptions (one per device), their email opt-in,
// admins' webhooks, and one delivery row per (event, target): the dispatcher tails the audit trail from a cursor
// (settings key `notifications.cursor`), fans each notifiable event out into deliveries in one transaction, and
// sends them in event order per target, retrying with back-off. Nothing here is on the request path.
import type { Kysely, Migration } from "kysely";

export const m0006Notifications: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable("push_subscriptions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("endpoint", "text", (c) => c.notNull().unique())
      .addColumn("p256dh", "text", (c) => c.notNull())
      .addColumn("auth", "text", (c) => c.notNull())
      // What the admin calls this device ("Dana's phone"), from the browser's user agent by default.
      .addColumn("label", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("last_used_at", "text")
      .execute();
    await db.schema.createIndex("push_subscriptions_user").on("push_subscriptions").column("user_id").execute();

    await db.schema
      .createTable("notification_prefs")
      .addColumn("user_id", "text", (c) => c.primaryKey())
      .addColumn("email_enabled", "integer", (c) => c.notNull().defaultTo(0))
      // JSON array of notification event kinds (core/notifications.ts) this user wants by email.
      .addColumn("email_events", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("webhooks")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("url", "text", (c) => c.notNull())
      // The HMAC-SHA256 key: shown once when made (and on rotation), then only used to sign.
      .addColumn("secret", "text", (c) => c.notNull())
      .addColumn("events", "text", (c) => c.notNull())
      .addColumn("format", "text", (c) => c.notNull())
      .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("notification_deliveries")
      .addColumn("id", "text", (c) => c.primaryKey())
      // webhook | email | push
      .addColumn("channel", "text", (c) => c.notNull())
      // The webhook's id, the user's id (email) or the push subscription's id.
      .addColumn("target_id", "text", (c) => c.notNull())
      .addColumn("event_seq", "integer", (c) => c.notNull())
      .addColumn("event_type", "text", (c) => c.notNull())
      // What is sent, built at fan-out (JSON): the same bytes on every retry.
      .addColumn("payload", "text", (c) => c.notNull())
      // pending | delivered | failed (gave up) | dropped (target gone)
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("next_attempt_at", "text", (c) => c.notNull())
      .addColumn("last_error", "text")
      .addColumn("last_status", "integer")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("delivered_at", "text")
      .execute();
    await db.schema.createIndex("notification_deliveries_due").on("notification_deliveries").columns(["status", "next_attempt_at"]).execute();
    await db.schema.createIndex("notification_deliveries_target").on("notification_deliveries").columns(["channel", "target_id", "event_seq"]).execute();
  },
};
