// Webhooks (issue 9): an admin's URL gets each chosen event as generic JSON, a Slack message or a Teams Adaptive
// Card, signed with the webhook's own secret: X-JIT-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>.
// The body is made once at fan-out, so every retry sends the same bytes (and X-JIT-Delivery, the same id).
// Outcomes: 2xx delivered; 408, 429, 5xx and network errors or timeouts are retried with back-off; any other status
// (3xx: we never follow redirects, 4xx: the receiver refuses it) fails at once: sending it again would not help.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";
import { NOTIFICATION_KIND_LABELS, NotificationKindSchema, WebhookFormatSchema, type NotificationKind, type WebhookFormat } from "../../core/notifications";
import type { Channel, DeliveryOutcome, NotifyConfig } from "./types";
import { messageFor, type NotificationMessage } from "./message";

export const WEBHOOK_TIMEOUT_MS = 10_000;
const USER_AGENT = "JIT-Access-Webhook/1";

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

/** What a receiver does (README): recompute the HMAC over the raw body and compare in constant time. */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const got = Buffer.from(header);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

// ---- URLs ------------------------------------------------------------------------------------------------------

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.") || h === "0.0.0.0";
  if (isIP(h) === 6) return h === "::1" || h === "::" || /^::ffff:127\./.test(h);
  return false;
}

/**
 * A webhook URL must be http(s) with a host; plain http is allowed (the console warns). Loopback addresses are
 * refused unless NOTIFY_ALLOW_LOOPBACK_HTTP is set (tests, local trials): a webhook must not reach services on
 * the server's own machine. The problem in words, or null.
 */
export function webhookUrlProblem(text: string, allowLoopback: boolean): string | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return "Enter a full URL, like https://hooks.example.com/jit.";
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return "The URL must start with https:// (or http://).";
  if (!u.hostname) return "The URL needs a host name.";
  if (isLoopbackHost(u.hostname) && !allowLoopback) return "Webhooks may not point at this server's own machine (localhost or 127.0.0.1).";
  return null;
}

// ---- Bodies ----------------------------------------------------------------------------------------------------

export function genericBody(m: NotificationMessage, timestamp: string): Record<string, unknown> {
  return {
    type: m.kind,
    timestamp,
    event: { seq: m.seq, id: m.eventId, type: m.eventType, at: m.at, actor: m.actor },
    title: m.title,
    text: m.text,
    link: m.link,
    ...(m.request ? { request: m.request } : {}),
    ...(m.policy ? { policy: m.policy } : {}),
    ...(m.audit ? { audit: m.audit } : {}),
  };
}

const slackEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const isAbsolute = (link: string) => /^https?:\/\//.test(link);

function facts(m: NotificationMessage): { title: string; value: string }[] {
  const f: { title: string; value: string }[] = [];
  if (m.request) {
    f.push({ title: "User", value: m.request.user }, { title: "Computer", value: m.request.computer.name ?? m.request.computer.id }, { title: "Application", value: m.request.app.path });
    if (m.request.justification) f.push({ title: "Justification", value: m.request.justification });
  }
  if (m.policy) f.push({ title: "Policy", value: m.policy.name ?? m.policy.id });
  if (m.audit?.badSeq != null) f.push({ title: "First bad event", value: `#${m.audit.badSeq}` });
  f.push({ title: "Audit event", value: `#${m.seq} at ${m.at}` });
  return f;
}

export function slackBody(m: NotificationMessage): Record<string, unknown> {
  const blocks: unknown[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${slackEscape(m.title)}*\n${slackEscape(m.text)}` } },
    { type: "context", elements: [{ type: "mrkdwn", text: slackEscape(`${NOTIFICATION_KIND_LABELS[m.kind]} · audit event #${m.seq} · ${m.at}`) }] },
  ];
  if (isAbsolute(m.link)) blocks.push({ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Open in JIT Access" }, url: m.link }] });
  return { text: isAbsolute(m.link) ? `${m.title} <${m.link}|Open>` : m.title, blocks };
}

export function teamsBody(m: NotificationMessage): Record<string, unknown> {
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: m.title, weight: "Bolder", size: "Medium", wrap: true },
            { type: "TextBlock", text: m.text, wrap: true },
            { type: "FactSet", facts: facts(m) },
          ],
          actions: isAbsolute(m.link) ? [{ type: "Action.OpenUrl", title: "Open in JIT Access", url: m.link }] : [],
        },
      },
    ],
  };
}

export function formatBody(format: WebhookFormat, m: NotificationMessage, timestamp: string): string {
  const body = format === "slack" ? slackBody(m) : format === "teams" ? teamsBody(m) : genericBody(m, timestamp);
  return JSON.stringify(body);
}

// ---- Sending ---------------------------------------------------------------------------------------------------

/** What a webhook delivery keeps: the exact body and the timestamp it carries. */
export const WebhookPayloadSchema = z.object({ kind: z.union([NotificationKindSchema, z.literal("test")]), timestamp: z.string(), body: z.string() });
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

export function classifyStatus(status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return { ok: true, status };
  const retry = status === 408 || status === 429 || status >= 500;
  const error =
    status >= 300 && status < 400
      ? `The receiver answered HTTP ${status} (a redirect; webhooks do not follow redirects: enter the final URL)`
      : `The receiver answered HTTP ${status}${retry ? "" : " (not retried: the receiver refused it)"}`;
  return { ok: false, status, error, retry };
}

/** One POST of a delivery; never throws. */
export async function postWebhook(
  hook: { url: string; secret: string },
  payload: WebhookPayload,
  deliveryId: string,
  opts: { allowLoopback: boolean; timeoutMs?: number },
): Promise<DeliveryOutcome> {
  const problem = webhookUrlProblem(hook.url, opts.allowLoopback);
  if (problem) return { ok: false, error: problem, retry: false };
  try {
    const res = await fetch(hook.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
      headers: {
        "content-type": "application/json; charset=utf-8",
        "user-agent": USER_AGENT,
        "x-jit-event": payload.kind,
        "x-jit-delivery": deliveryId,
        "x-jit-timestamp": payload.timestamp,
        "x-jit-signature": signBody(hook.secret, payload.body),
      },
      body: payload.body,
    });
    // Read (and discard) the answer so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    return classifyStatus(res.status);
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === "TimeoutError" ? `no answer within ${Math.round((opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS) / 1000)} s` : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { ok: false, error: `Could not reach the receiver: ${why}`, retry: true };
  }
}

export function parseWebhookEvents(text: string): NotificationKind[] {
  const r = z.array(NotificationKindSchema).safeParse(safeJson(text));
  return r.success ? r.data : [];
}
export function parseWebhookFormat(text: string): WebhookFormat {
  const r = WebhookFormatSchema.safeParse(text);
  return r.success ? r.data : "generic";
}
function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function webhookChannel(config: NotifyConfig): Channel {
  return {
    name: "webhook",
    async fanOut(ctx, trx, n) {
      const hooks = await trx.selectFrom("webhooks").select(["id", "events", "format"]).where("enabled", "=", 1).orderBy("created_at").execute();
      const wanted = hooks.filter((h) => parseWebhookEvents(h.events).includes(n.kind));
      if (wanted.length === 0) return [];
      const m = await messageFor(trx, config.publicUrl, n.kind, n.event);
      const timestamp = ctx.now().toISOString();
      return wanted.map((h) => ({ targetId: h.id, payload: { kind: n.kind, timestamp, body: formatBody(parseWebhookFormat(h.format), m, timestamp) } satisfies WebhookPayload }));
    },
    async deliver(ctx, d) {
      const hook = await ctx.db.selectFrom("webhooks").select(["url", "secret", "enabled"]).where("id", "=", d.targetId).executeTakeFirst();
      if (!hook) return { ok: false, error: "The webhook was deleted", retry: false, drop: true };
      if (!hook.enabled) return { ok: false, error: "The webhook is turned off", retry: false, drop: true };
      const payload = WebhookPayloadSchema.safeParse(d.payload);
      if (!payload.success) return { ok: false, error: "The stored delivery is unreadable", retry: false };
      return postWebhook(hook, payload.data, d.id, { allowLoopback: config.allowLoopbackHttp });
    },
  };
}
