// Web push: this device's notifications (Settings → Notifications). Anyone signed in may read the VAPID key and
// their own devices; only roles that decide requests may subscribe or send a test (server/services/push.ts).
import { z } from "zod";
import { AppError } from "../../core/app-error";
import { can } from "../../core/roles";
import { dispatcherOf } from "../notify/dispatcher";
import { PushSubscriptionInputSchema } from "../notify/push";
import type { NotifyConfig } from "../notify/types";
import type { ServiceContext } from "../services/context";
import { listDevices, sendTestToMyDevices, subscribe, unsubscribe, vapidPublicKey } from "../services/push";
import { authedProcedure, router } from "../trpc";

const DeviceSchema = z.object({ id: z.string(), label: z.string(), endpoint: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() });

function configOf(services: ServiceContext): NotifyConfig {
  const d = dispatcherOf(services);
  if (!d) throw new AppError("internal", "Notifications are not running on this server.");
  return d.config;
}

export const pushRouter = router({
  /** The server's VAPID public key (base64url) for pushManager.subscribe, and whether this user may subscribe. */
  vapidPublicKey: authedProcedure
    .output(z.object({ publicKey: z.string(), canSubscribe: z.boolean() }))
    .query(async ({ ctx }) => ({ publicKey: await vapidPublicKey(ctx.services), canSubscribe: can(ctx.user.role, "requests.decide") })),
  subscribe: authedProcedure
    .input(PushSubscriptionInputSchema)
    .output(DeviceSchema)
    .mutation(({ ctx, input }) => subscribe(ctx.services, configOf(ctx.services), ctx.user, input)),
  /** Turns this device off (its endpoint), or removes one device from the list (its id). */
  unsubscribe: authedProcedure
    .input(z.union([z.object({ endpoint: z.string().min(1).max(2000) }), z.object({ id: z.string().min(1).max(100) })]))
    .output(z.object({ removed: z.number().int() }))
    .mutation(({ ctx, input }) => unsubscribe(ctx.services, ctx.user, input)),
  mySubscriptions: authedProcedure.output(z.object({ devices: z.array(DeviceSchema) })).query(async ({ ctx }) => ({ devices: await listDevices(ctx.services, ctx.user) })),
  sendTest: authedProcedure
    .output(z.object({ results: z.array(z.object({ id: z.string(), label: z.string(), ok: z.boolean(), error: z.string().nullable(), removed: z.boolean() })) }))
    .mutation(async ({ ctx }) => ({ results: await sendTestToMyDevices(ctx.services, configOf(ctx.services), ctx.user) })),
});
