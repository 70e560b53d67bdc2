// Notification settings with the database: webhooks (each change on the audit trail as webhook.changed, never
// with the secret), their delivery log, retry now and a test send; and each console user's email opt-in.
import { AppError } from "../../core/app-error";
import type { ConsoleUser } from "../../core/console-api";
import {
  DELIVERY_STATUSES,
  notificationKindsFor,
  WebhookInputSchema,
  type DeliveryStatus,
  type DeliveryView,
  type EmailPrefs,
  type WebhookInput,
  type WebhookView,
} from "../../core/notifications";
import { sendTestEmail, parseEmailEvents } from "../notify/email";
import type { NotifyConfig } from "../notify/types";
import { newWebhookSecret, parseWebhookEvents, parseWebhookFormat, postWebhook, webhookUrlProblem, type WebhookPayload } from "../notify/webhook";
import type { WebhooksTable } from "../db/schema";
import { newId } from "../util";
import type { ServiceContext } from "./context";
import { appendEvent } from "./events";

const statusOf = (s: string): DeliveryStatus => ((DELIVERY_STATUSES as readonly string[]).includes(s) ? (s as DeliveryStatus) : "pending");
const actorOf = (u: ConsoleUser) => ({ type: "user" as const, id: u.id, name: u.email });
/** Webhook URLs often carry a token in their path (Slack, Teams): the trail keeps only the scheme and host. */
const urlForTrail = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return "?";
  }
};

function checkUrl(url: string, config: NotifyConfig): void {
  const problem = webhookUrlProblem(url, config.allowLoopbackHttp);
  if (problem) throw new AppError("bad_request", problem, { issues: [{ code: "url", path: "url", message: problem }] });
}

async function getRow(ctx: ServiceContext, id: string): Promise<WebhooksTable> {
  const row = await ctx.db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw new AppError("not_found", "That webhook does not exist (any more). Reload the page.");
  return row;
}

export async function listWebhooks(ctx: ServiceContext): Promise<WebhookView[]> {
  const rows = await ctx.db.selectFrom("webhooks").selectAll().orderBy("created_at").execute();
  const counts = await ctx.db
    .selectFrom("notification_deliveries")
    .select(["target_id", "status", (eb) => eb.fn.countAll<number>().as("n")])
    .where("channel", "=", "webhook")
    .where("status", "in", ["pending", "failed"])
    // A failed test is shown where it was sent, not as a lost event.
    .where("event_type", "!=", "test")
    .groupBy(["target_id", "status"])
    .execute();
  const out: WebhookView[] = [];
  for (const r of rows) {
    const last = await ctx.db
      .selectFrom("notification_deliveries")
      .select(["status", "created_at", "delivered_at", "last_error"])
      .where("channel", "=", "webhook")
      .where("target_id", "=", r.id)
      .where("status", "!=", "pending")
      .orderBy("created_at", "desc")
      .orderBy("event_seq", "desc")
      .limit(1)
      .executeTakeFirst();
    const n = (status: string) => Number(counts.find((c) => c.target_id === r.id && c.status === status)?.n ?? 0);
    out.push({
      id: r.id,
      name: r.name,
      url: r.url,
      events: parseWebhookEvents(r.events),
      format: parseWebhookFormat(r.format),
      enabled: Boolean(r.enabled),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      pending: n("pending"),
      failed: n("failed"),
      lastDelivery: last ? { status: statusOf(last.status), at: last.delivered_at ?? last.created_at, error: last.last_error } : null,
    });
  }
  return out;
}

export async function createWebhook(ctx: ServiceContext, config: NotifyConfig, input: WebhookInput, actor: ConsoleUser): Promise<{ id: string; secret: string }> {
  const v = WebhookInputSchema.parse(input);
  checkUrl(v.url, config);
  const id = newId();
  const secret = newWebhookSecret();
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto("webhooks")
      .values({ id, name: v.name, url: v.url, secret, events: JSON.stringify(v.events), format: v.format, enabled: v.enabled ? 1 : 0, created_at: now.toISOString(), updated_at: now.toISOString() })
      .execute();
    await appendEvent(trx, ctx.dialect, { type: "webhook.changed", actor: actorOf(actor), detail: { action: "created", webhookId: id, name: v.name, url: urlForTrail(v.url), events: v.events, format: v.format, enabled: v.enabled } }, now);
  });
  return { id, secret };
}

export async function updateWebhook(ctx: ServiceContext, config: NotifyConfig, id: string, input: WebhookInput, actor: ConsoleUser): Promise<void> {
  const v = WebhookInputSchema.parse(input);
  checkUrl(v.url, config);
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const old = await trx.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();
    if (!old) throw new AppError("not_found", "That webhook does not exist (any more). Reload the page.");
    const changes: Record<string, unknown> = {};
    if (old.name !== v.name) changes.name = { old: old.name, new: v.name };
    if (old.url !== v.url) changes.url = { old: urlForTrail(old.url), new: urlForTrail(v.url) };
    if (old.events !== JSON.stringify(v.events)) changes.events = { old: parseWebhookEvents(old.events), new: v.events };
    if (old.format !== v.format) changes.format = { old: old.format, new: v.format };
    if (Boolean(old.enabled) !== v.enabled) changes.enabled = { old: Boolean(old.enabled), new: v.enabled };
    if (Object.keys(changes).length === 0) return;
    await trx
      .updateTable("webhooks")
      .set({ name: v.name, url: v.url, events: JSON.stringify(v.events), format: v.format, enabled: v.enabled ? 1 : 0, updated_at: now.toISOString() })
      .where("id", "=", id)
      .execute();
    await appendEvent(trx, ctx.dialect, { type: "webhook.changed", actor: actorOf(actor), detail: { action: "updated", webhookId: id, name: v.name, changes } }, now);
  });
}

export async function deleteWebhook(ctx: ServiceContext, id: string, actor: ConsoleUser): Promise<void> {
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const old = await trx.selectFrom("webhooks").select(["name", "url"]).where("id", "=", id).executeTakeFirst();
    if (!old) throw new AppError("not_found", "That webhook does not exist (any more). Reload the page.");
    await trx.deleteFrom("notification_deliveries").where("channel", "=", "webhook").where("target_id", "=", id).execute();
    await trx.deleteFrom("webhooks").where("id", "=", id).execute();
    await appendEvent(trx, ctx.dialect, { type: "webhook.changed", actor: actorOf(actor), detail: { action: "deleted", webhookId: id, name: old.name, url: urlForTrail(old.url) } }, now);
  });
}

export async function rotateWebhookSecret(ctx: ServiceContext, id: string, actor: ConsoleUser): Promise<{ secret: string }> {
  const secret = newWebhookSecret();
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const old = await trx.selectFrom("webhooks").select(["name"]).where("id", "=", id).executeTakeFirst();
    if (!old) throw new AppError("not_found", "That webhook does not exist (any more). Reload the page.");
    await trx.updateTable("webhooks").set({ secret, updated_at: now.toISOString() }).where("id", "=", id).execute();
    await appendEvent(trx, ctx.dialect, { type: "webhook.changed", actor: actorOf(actor), detail: { action: "secret_rotated", webhookId: id, name: old.name } }, now);
  });
  return { secret };
}

/** Sends a test message at once (not queued: the admin sees the answer) and keeps it in the delivery log. */
export async function sendWebhookTest(ctx: ServiceContext, config: NotifyConfig, id: string, actor: ConsoleUser): Promise<{ ok: boolean; status: number | null; error: string | null }> {
  const hook = await getRow(ctx, id);
  const now = ctx.now().toISOString();
  const format = parseWebhookFormat(hook.format);
  const text = `${actor.email} sent a test from JIT Access (Settings → Notifications). This webhook works.`;
  const body =
    format === "slack"
      ? { text: `JIT Access test: ${text}` }
      : format === "teams"
        ? { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: { $schema: "http://adaptivecards.io/schemas/adaptive-card.json", type: "AdaptiveCard", version: "1.4", body: [{ type: "TextBlock", text: "JIT Access test", weight: "Bolder", wrap: true }, { type: "TextBlock", text, wrap: true }] } }] }
        : { type: "test", timestamp: now, title: "JIT Access test", text };
  const payload: WebhookPayload = { kind: "test", timestamp: now, body: JSON.stringify(body) };
  const deliveryId = newId();
  const outcome = await postWebhook(hook, payload, deliveryId, { allowLoopback: config.allowLoopbackHttp });
  await ctx.db
    .insertInto("notification_deliveries")
    .values({
      id: deliveryId,
      channel: "webhook",
      target_id: id,
      event_seq: 0,
      event_type: "test",
      payload: JSON.stringify(payload),
      status: outcome.ok ? "delivered" : "failed",
      attempts: 1,
      next_attempt_at: now,
      last_error: outcome.ok ? null : outcome.error,
      last_status: outcome.status ?? null,
      created_at: now,
      delivered_at: outcome.ok ? ctx.now().toISOString() : null,
    })
    .execute();
  return { ok: outcome.ok, status: outcome.status ?? null, error: outcome.ok ? null : outcome.error };
}

export async function listDeliveries(ctx: ServiceContext, webhookId: string, limit: number): Promise<DeliveryView[]> {
  await getRow(ctx, webhookId);
  const rows = await ctx.db
    .selectFrom("notification_deliveries")
    .select(["id", "event_seq", "event_type", "status", "attempts", "last_error", "last_status", "next_attempt_at", "created_at", "delivered_at"])
    .where("channel", "=", "webhook")
    .where("target_id", "=", webhookId)
    .orderBy("created_at", "desc")
    .orderBy("event_seq", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    eventSeq: Number(r.event_seq),
    eventType: r.event_type,
    status: statusOf(r.status),
    attempts: Number(r.attempts),
    lastError: r.last_error,
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    nextAttemptAt: r.status === "pending" ? r.next_attempt_at : null,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  }));
}

/**
 * Retry now: the webhook's waiting deliveries become due at once; with a delivery id, that failed delivery is
 * queued again (it is then sent after whatever of the webhook's is still pending before it, by event order).
 */
export async function retryWebhookNow(ctx: ServiceContext, webhookId: string, deliveryId: string | null): Promise<{ queued: number }> {
  await getRow(ctx, webhookId);
  const now = ctx.now().toISOString();
  const base = ctx.db.updateTable("notification_deliveries").where("channel", "=", "webhook").where("target_id", "=", webhookId);
  // A failed delivery queued again gets a new give-up window (24 h from now).
  const r = deliveryId
    ? await base.set({ status: "pending", next_attempt_at: now, created_at: now }).where("id", "=", deliveryId).where("status", "in", ["failed", "pending"]).where("event_type", "!=", "test").executeTakeFirst()
    : await base.set({ next_attempt_at: now }).where("status", "=", "pending").executeTakeFirst();
  return { queued: Number(r.numUpdatedRows) };
}

// ---- Email opt-in ----------------------------------------------------------------------------------------------

export async function getEmailPrefs(ctx: ServiceContext, config: NotifyConfig, user: ConsoleUser) {
  const row = await ctx.db.selectFrom("notification_prefs").selectAll().where("user_id", "=", user.id).executeTakeFirst();
  const offered = notificationKindsFor(user.role);
  return {
    enabled: Boolean(row?.email_enabled),
    events: row ? parseEmailEvents(row.email_events).filter((k) => offered.includes(k)) : offered.filter((k) => k !== "policy.deployed"),
    offered,
    available: config.smtpUrl !== null,
    address: user.email,
  };
}

export async function setEmailPrefs(ctx: ServiceContext, config: NotifyConfig, user: ConsoleUser, prefs: EmailPrefs) {
  const offered = notificationKindsFor(user.role);
  const refused = prefs.events.filter((k) => !offered.includes(k));
  if (refused.length > 0) throw new AppError("forbidden", `Your role (${user.role}) is not told about: ${refused.join(", ")}.`);
  const now = ctx.now().toISOString();
  const values = { email_enabled: prefs.enabled ? 1 : 0, email_events: JSON.stringify([...new Set(prefs.events)]), updated_at: now };
  await ctx.db
    .insertInto("notification_prefs")
    .values({ user_id: user.id, ...values })
    .onConflict((oc) => oc.column("user_id").doUpdateSet(values))
    .execute();
  return getEmailPrefs(ctx, config, user);
}

export async function sendMeTestEmail(config: NotifyConfig, user: ConsoleUser) {
  const o = await sendTestEmail(config, user.email);
  return { ok: o.ok, status: o.status ?? null, error: o.ok ? null : o.error };
}
