// Push subscriptions (Settings → Notifications → This device): one row per browser push endpoint, owned by the
// console user who turned notifications on there. Only roles that decide requests may subscribe: that is all push
// tells about. Subscribing is not a privileged change (it grants nothing), so it is not on the audit trail; what is
// pushed is in the delivery log, and a decision made from a notification is audited like any other.
import { AppError } from "../../core/app-error";
import type { ConsoleUser } from "../../core/console-api";
import { can } from "../../core/roles";
import { loadOrCreateVapidKeys, pushEndpointProblem, sendPush, testPayload, type PushSubscriptionInput } from "../notify/push";
import type { NotifyConfig } from "../notify/types";
import { newId } from "../util";
import type { ServiceContext } from "./context";

/** A user's devices are few; this bounds what one account can make the server send to. */
export const MAX_DEVICES_PER_USER = 20;

export type PushDevice = { id: string; label: string; endpoint: string; createdAt: string; lastUsedAt: string | null };

function mustDecide(user: ConsoleUser): void {
  if (!can(user.role, "requests.decide")) {
    throw new AppError("forbidden", `Push notifications tell about requests waiting for a decision; your role (${user.role}) does not decide requests, so there is nothing to send you.`);
  }
}

export async function vapidPublicKey(ctx: ServiceContext): Promise<string> {
  return (await loadOrCreateVapidKeys(ctx.db, ctx.now)).publicKey;
}

/** Adds this device, or takes it over (the same endpoint: the browser's subscription is one per profile). */
export async function subscribe(ctx: ServiceContext, config: NotifyConfig, user: ConsoleUser, input: PushSubscriptionInput): Promise<PushDevice> {
  mustDecide(user);
  const problem = pushEndpointProblem(input.endpoint, config.allowLoopbackHttp);
  if (problem) throw new AppError("bad_request", problem);
  const now = ctx.now().toISOString();
  const label = input.label || "This device";
  const existing = await ctx.db.selectFrom("push_subscriptions").select(["id"]).where("endpoint", "=", input.endpoint).executeTakeFirst();
  if (existing) {
    await ctx.db
      .updateTable("push_subscriptions")
      .set({ user_id: user.id, p256dh: input.keys.p256dh, auth: input.keys.auth, label })
      .where("id", "=", existing.id)
      .execute();
  } else {
    const count = await ctx.db.selectFrom("push_subscriptions").select((eb) => eb.fn.countAll<number>().as("n")).where("user_id", "=", user.id).executeTakeFirst();
    if (Number(count?.n ?? 0) >= MAX_DEVICES_PER_USER) throw new AppError("conflict", `You have ${MAX_DEVICES_PER_USER} devices with notifications on: remove one first.`);
    await ctx.db
      .insertInto("push_subscriptions")
      .values({ id: newId(), user_id: user.id, endpoint: input.endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth, label, created_at: now, last_used_at: null })
      // Two tabs of one browser at once: the endpoint is unique, the second one takes it over.
      .onConflict((oc) => oc.column("endpoint").doUpdateSet({ user_id: user.id, p256dh: input.keys.p256dh, auth: input.keys.auth, label }))
      .execute();
  }
  const row = await ctx.db.selectFrom("push_subscriptions").selectAll().where("endpoint", "=", input.endpoint).executeTakeFirstOrThrow();
  return toDevice(row);
}

function toDevice(r: { id: string; label: string; endpoint: string; created_at: string; last_used_at: string | null }): PushDevice {
  return { id: r.id, label: r.label, endpoint: r.endpoint, createdAt: r.created_at, lastUsedAt: r.last_used_at };
}

export async function listDevices(ctx: ServiceContext, user: ConsoleUser): Promise<PushDevice[]> {
  const rows = await ctx.db.selectFrom("push_subscriptions").selectAll().where("user_id", "=", user.id).orderBy("created_at").execute();
  return rows.map(toDevice);
}

/** Removes one of my devices, by its endpoint (this device) or id (the list). Removing what is not there is fine. */
export async function unsubscribe(ctx: ServiceContext, user: ConsoleUser, by: { endpoint: string } | { id: string }): Promise<{ removed: number }> {
  let q = ctx.db.deleteFrom("push_subscriptions").where("user_id", "=", user.id);
  q = "endpoint" in by ? q.where("endpoint", "=", by.endpoint) : q.where("id", "=", by.id);
  const r = await q.executeTakeFirst();
  return { removed: Number(r.numDeletedRows ?? 0n) };
}

export type TestResult = { id: string; label: string; ok: boolean; error: string | null; removed: boolean };

/** Sends a test notification to each of my devices now; a device its push service no longer knows is removed. */
export async function sendTestToMyDevices(ctx: ServiceContext, config: NotifyConfig, user: ConsoleUser): Promise<TestResult[]> {
  mustDecide(user);
  const subs = await ctx.db.selectFrom("push_subscriptions").selectAll().where("user_id", "=", user.id).orderBy("created_at").execute();
  const vapid = await loadOrCreateVapidKeys(ctx.db, ctx.now);
  const payload = testPayload(config, user.id);
  return Promise.all(
    subs.map(async (s): Promise<TestResult> => {
      const out = await sendPush(config, vapid, s, payload);
      if (out.ok) {
        await ctx.db.updateTable("push_subscriptions").set({ last_used_at: ctx.now().toISOString() }).where("id", "=", s.id).execute();
        return { id: s.id, label: s.label, ok: true, error: null, removed: false };
      }
      if (out.drop) await ctx.db.deleteFrom("push_subscriptions").where("id", "=", s.id).execute();
      return { id: s.id, label: s.label, ok: false, error: out.error, removed: !!out.drop };
    }),
  );
}
