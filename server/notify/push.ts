// Web push (issue 9): each new pending request goes to every device of every console user who may decide it
// (roles with requests.decide, not disabled), encrypted for the device (RFC 8291, aes128gcm) and signed with the
// server's VAPID key (RFC 8292). web-push builds the request (encryption and the VAPID header); we send it ourselves
// with fetch, because web-push's own sender only speaks https and tests use a receiver on plain-http loopback.
// Push service answers: 2xx delivered; 404/410 the subscription is gone (dropped: the subscription is deleted);
// 429, 5xx and network errors are retried by the dispatcher; anything else fails at once.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import webpush from "web-push";
import { z } from "zod";
import { can, RoleSchema } from "../../core/roles";
import type { Db } from "../db/schema";
import type { ServiceContext } from "../services/context";
import { autonomousRuleOf, linkTo, messageFor } from "./message";
import type { Channel, DeliveryOutcome, NotifyConfig } from "./types";

/** How long a push service keeps a message for a device that is offline: a request is decided within the hour or it waits. */
export const PUSH_TTL_SECONDS = 3600;
export const PUSH_TIMEOUT_MS = 10_000;
export const DEFAULT_VAPID_SUBJECT = "mailto:admin@localhost";
/** Push services accept about 4 kB of encrypted payload; ours stays well under. */
export const PUSH_PAYLOAD_MAX_BYTES = 3000;

// ---- VAPID keys ------------------------------------------------------------------------------------------------

export type VapidKeys = { publicKey: string; privateKey: string };
const VAPID_KEY_ID = "vapid";
const vapidCache = new WeakMap<Db, Promise<VapidKeys>>();

/**
 * The server's VAPID key pair (P-256; base64url, the public key as the 65-byte uncompressed point browsers take as
 * applicationServerKey): a server_keys row made on first use. Several servers may start at once: the first insert
 * wins and everyone reads the winner.
 */
export function loadOrCreateVapidKeys(db: Db, now: () => Date = () => new Date()): Promise<VapidKeys> {
  let keys = vapidCache.get(db);
  if (!keys) {
    keys = (async () => {
      const read = () => db.selectFrom("server_keys").select(["public_key", "private_key"]).where("id", "=", VAPID_KEY_ID).executeTakeFirst();
      let row = await read();
      if (!row) {
        const made = webpush.generateVAPIDKeys();
        await db
          .insertInto("server_keys")
          .values({ id: VAPID_KEY_ID, public_key: made.publicKey, private_key: made.privateKey, created_at: now().toISOString() })
          .onConflict((oc) => oc.column("id").doNothing())
          .execute();
        row = await read();
        if (!row) throw new Error("the VAPID key could not be stored");
      }
      return { publicKey: row.public_key, privateKey: row.private_key };
    })();
    vapidCache.set(db, keys);
    keys.catch(() => vapidCache.delete(db));
  }
  return keys;
}

// ---- Endpoints and keys --------------------------------------------------------------------------------------------

function isPrivateOrLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) {
    const [a = 0, b = 0] = h.split(".").map(Number);
    return a === 127 || a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  if (isIP(h) === 6) return h === "::1" || h === "::" || h.startsWith("fc") || h.startsWith("fd") || h.startsWith("fe80:") || h.startsWith("::ffff:");
  return false;
}
function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" || (isIP(h) === 4 && h.startsWith("127."));
}

/**
 * A push endpoint must be https on a public host (browsers' push services are); plain http is only allowed on
 * loopback with NOTIFY_ALLOW_LOOPBACK_HTTP (tests). The server must not be made to POST into its own network.
 * Checked when a device subscribes and again before every send. The problem in words, or null.
 */
export function pushEndpointProblem(endpoint: string, allowLoopbackHttp: boolean): string | null {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return "The push endpoint is not a URL.";
  }
  if (u.username || u.password) return "The push endpoint may not carry a user name or password.";
  if (allowLoopbackHttp && isLoopback(u.hostname) && (u.protocol === "http:" || u.protocol === "https:")) return null;
  if (u.protocol !== "https:") return "The push endpoint must be an https:// URL of the browser's push service.";
  if (isPrivateOrLoopbackHost(u.hostname)) return "The push endpoint points into a private network; browsers' push services are public.";
  return null;
}

export type Resolve = (hostname: string) => Promise<Array<{ address: string }>>;
const resolveAll: Resolve = (hostname) => lookup(hostname, { all: true });

/**
 * A public host name can still point into a private network: its addresses, as this server resolves them just
 * before sending, must all be public too. The problem in words (retry: the name did not resolve), or null.
 */
export async function resolvedEndpointProblem(endpoint: string, allowLoopbackHttp: boolean, resolve: Resolve = resolveAll): Promise<{ error: string; retry: boolean } | null> {
  const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) || (allowLoopbackHttp && isLoopback(host))) return null;
  let addresses: Array<{ address: string }>;
  try {
    addresses = await resolve(host);
  } catch (e) {
    return { error: `The push service's name did not resolve: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, retry: true };
  }
  if (addresses.length === 0) return { error: "The push service's name did not resolve.", retry: true };
  const inside = addresses.find((a) => isPrivateOrLoopbackHost(a.address));
  return inside ? { error: `The push endpoint's host resolves into a private network (${inside.address}); browsers' push services are public.`, retry: false } : null;
}

const b64urlBytes = (n: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, `${what} must be base64url`)
    .refine((s) => Buffer.from(s, "base64url").length === n, `${what} must be ${n} bytes`);

/** What a browser's PushSubscription.toJSON() gives (keys base64url: p256dh the 65-byte P-256 point, auth 16 bytes). */
export const PushSubscriptionInputSchema = z.object({
  endpoint: z.string().trim().min(10).max(2000),
  keys: z.object({
    p256dh: b64urlBytes(65, "p256dh").refine((s) => Buffer.from(s, "base64url")[0] === 0x04, "p256dh must be an uncompressed P-256 point"),
    auth: b64urlBytes(16, "auth"),
  }),
  /** What the admin calls this device ("Dana's phone"); from the user agent when empty. */
  label: z.string().trim().max(100).optional(),
});
export type PushSubscriptionInput = z.infer<typeof PushSubscriptionInputSchema>;

// ---- Payload ------------------------------------------------------------------------------------------------------

/** What the service worker gets (public/sw-push.js reads it): small, plain, no secrets. */
export const PushPayloadSchema = z.object({
  kind: z.enum(["request.submitted", "test"]),
  requestId: z.string().nullable(),
  user: z.string(),
  computer: z.string(),
  app: z.string(),
  justification: z.string().nullable(),
  duration: z.string().nullable(),
  /** Where the console shows it (absolute when PUBLIC_URL is set, else a path). */
  url: z.string(),
  /** The console user this device belongs to: a decision queued offline is only handed to their console. */
  userId: z.string(),
});
export type PushPayload = z.infer<typeof PushPayloadSchema>;

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// ---- Sending -------------------------------------------------------------------------------------------------------

export type PushTarget = { id: string; endpoint: string; p256dh: string; auth: string };

/** Encrypts and sends one message; the outcome, never a throw. */
export async function sendPush(config: NotifyConfig, vapid: VapidKeys, target: PushTarget, payload: PushPayload, timeoutMs = PUSH_TIMEOUT_MS): Promise<DeliveryOutcome> {
  const problem = pushEndpointProblem(target.endpoint, config.allowLoopbackHttp);
  if (problem) return { ok: false, error: problem, retry: false, drop: true };
  const resolved = await resolvedEndpointProblem(target.endpoint, config.allowLoopbackHttp);
  if (resolved) return { ok: false, ...resolved };
  const body = JSON.stringify(payload);
  let details: ReturnType<typeof webpush.generateRequestDetails>;
  try {
    details = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, body, {
      vapidDetails: { subject: config.vapidSubject ?? DEFAULT_VAPID_SUBJECT, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
      TTL: PUSH_TTL_SECONDS,
      urgency: "high",
      contentEncoding: "aes128gcm",
    });
  } catch (e) {
    // A subscription whose keys do not make a key agreement can never be sent to.
    return { ok: false, error: `Could not encrypt for this device: ${(e as Error).message}`, retry: false, drop: true };
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(details.headers)) if (k.toLowerCase() !== "content-length") headers[k] = String(v);
  let res: Response;
  try {
    res = await fetch(details.endpoint, {
      method: "POST",
      headers,
      body: details.body ? new Uint8Array(details.body) : undefined,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === "TimeoutError" ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (err.cause?.code ?? err.cause?.message ?? err.message);
    return { ok: false, error: `The push service could not be reached: ${why}`, retry: true };
  }
  const status = res.status;
  if (status >= 200 && status < 300) return { ok: true, status };
  if (status === 404 || status === 410) return { ok: false, status, error: `The push service answered HTTP ${status}: this device unsubscribed`, retry: false, drop: true };
  if (status === 429 || status >= 500) return { ok: false, status, error: `The push service answered HTTP ${status}`, retry: true };
  return { ok: false, status, error: `The push service refused it: HTTP ${status}`, retry: false };
}

/** Who may be told about requests (and decide them from a notification). */
function decides(role: string): boolean {
  const r = RoleSchema.safeParse(role);
  return r.success && can(r.data, "requests.decide");
}

export function pushChannel(config: NotifyConfig): Channel {
  return {
    name: "push",
    async fanOut(_ctx, trx, n) {
      if (n.kind !== "request.submitted" || !n.event.request_id) return [];
      // An Autonomous Approval rule matched it: the rule's decision follows the submission at once (its own
      // transaction, so the request may still read as pending here).
      if (autonomousRuleOf(n.event.detail)) return [];
      // Only a request that still waits: one an autonomous rule approved at once needs nobody.
      const request = await trx.selectFrom("requests").select(["status", "requested_duration"]).where("id", "=", n.event.request_id).executeTakeFirst();
      if (!request || request.status !== "pending") return [];
      const subs = await trx
        .selectFrom("push_subscriptions")
        .innerJoin("users", "users.id", "push_subscriptions.user_id")
        .select(["push_subscriptions.id", "push_subscriptions.user_id", "users.role"])
        .where("users.disabled", "=", 0)
        .orderBy("push_subscriptions.created_at")
        .execute();
      const to = subs.filter((s) => decides(s.role));
      if (to.length === 0) return [];
      const m = await messageFor(trx, config.publicUrl, n.kind, n.event);
      const r = m.request;
      const base = {
        kind: "request.submitted" as const,
        requestId: n.event.request_id,
        user: clip(r?.user ?? "?", 100),
        computer: clip(r?.computer.name ?? r?.computer.id ?? "?", 100),
        app: clip(r?.app.path ?? "?", 300),
        justification: r?.justification ? clip(r.justification, 500) : null,
        duration: r?.requestedDuration ?? request.requested_duration ?? null,
        url: m.link,
      };
      return to.map((s) => ({ targetId: s.id, payload: { ...base, userId: s.user_id } satisfies PushPayload }));
    },
    async deliver(ctx, d) {
      const stored = PushPayloadSchema.safeParse(d.payload);
      if (!stored.success) return { ok: false, error: "The stored push message is unreadable", retry: false };
      const sub = await ctx.db
        .selectFrom("push_subscriptions")
        .innerJoin("users", "users.id", "push_subscriptions.user_id")
        .select(["push_subscriptions.id", "push_subscriptions.endpoint", "push_subscriptions.p256dh", "push_subscriptions.auth", "push_subscriptions.user_id", "users.role", "users.disabled"])
        .where("push_subscriptions.id", "=", d.targetId)
        .executeTakeFirst();
      if (!sub) return { ok: false, error: "The device turned notifications off", retry: false, drop: true };
      // Someone else turned notifications on in this browser since the fan-out: the message was not for them.
      if (sub.user_id !== stored.data.userId) return { ok: false, error: "The device now belongs to another console user", retry: false };
      // Disabled, or no longer deciding requests since the fan-out: this device hears nothing more.
      if (sub.disabled || !decides(sub.role)) return { ok: false, error: "The device's user may no longer decide requests", retry: false, drop: true };
      const vapid = await loadOrCreateVapidKeys(ctx.db, ctx.now);
      const outcome = await sendPush(config, vapid, sub, stored.data);
      if (outcome.ok) await ctx.db.updateTable("push_subscriptions").set({ last_used_at: ctx.now().toISOString() }).where("id", "=", sub.id).execute();
      return outcome;
    },
    async onDrop(ctx, targetId) {
      await ctx.db.deleteFrom("push_subscriptions").where("id", "=", targetId).execute();
      ctx.log.info({ subscription: targetId }, "push subscription removed (the push service no longer knows it)");
    },
  };
}

/** The test message of Settings → Notifications → "Send a test notification". */
export function testPayload(config: NotifyConfig, userId: string): PushPayload {
  return {
    kind: "test",
    requestId: null,
    user: "",
    computer: "",
    app: "",
    justification: null,
    duration: null,
    url: linkTo(config.publicUrl, "/settings/notifications"),
    userId,
  };
}
