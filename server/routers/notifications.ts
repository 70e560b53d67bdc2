// Notifications: webhooks with their delivery log (owners and admins), and each signed-in user's email opt-in.
import { z } from "zod";
import { AppError } from "../../core/app-error";
import { DeliveryViewSchema, EmailPrefsSchema, EmailPrefsViewSchema, TestResultSchema, WebhookInputSchema, WebhookViewSchema } from "../../core/notifications";
import { dispatcherOf } from "../notify/dispatcher";
import type { NotifyConfig } from "../notify/types";
import type { ServiceContext } from "../services/context";
import {
  createWebhook,
  deleteWebhook,
  getEmailPrefs,
  listDeliveries,
  listWebhooks,
  retryWebhookNow,
  rotateWebhookSecret,
  sendMeTestEmail,
  sendWebhookTest,
  setEmailPrefs,
  updateWebhook,
} from "../services/notifications";
import { authedProcedure, procedureFor, router } from "../trpc";

const IdSchema = z.object({ id: z.string().min(1).max(100) });

function configOf(services: ServiceContext): NotifyConfig {
  const d = dispatcherOf(services);
  if (!d) throw new AppError("internal", "Notifications are not running on this server.");
  return d.config;
}

export const notificationsRouter = router({
  webhooks: router({
    list: procedureFor("settings.write")
      .output(z.object({ webhooks: z.array(WebhookViewSchema), allowLoopback: z.boolean() }))
      .query(async ({ ctx }) => ({ webhooks: await listWebhooks(ctx.services), allowLoopback: configOf(ctx.services).allowLoopbackHttp })),
    create: procedureFor("settings.write")
      .input(WebhookInputSchema)
      .output(z.object({ id: z.string(), secret: z.string() }))
      .mutation(({ ctx, input }) => createWebhook(ctx.services, configOf(ctx.services), input, ctx.user)),
    update: procedureFor("settings.write")
      .input(IdSchema.extend({ webhook: WebhookInputSchema }))
      .output(z.object({ ok: z.literal(true) }))
      .mutation(async ({ ctx, input }) => {
        await updateWebhook(ctx.services, configOf(ctx.services), input.id, input.webhook, ctx.user);
        return { ok: true as const };
      }),
    delete: procedureFor("settings.write")
      .input(IdSchema)
      .output(z.object({ ok: z.literal(true) }))
      .mutation(async ({ ctx, input }) => {
        await deleteWebhook(ctx.services, input.id, ctx.user);
        return { ok: true as const };
      }),
    rotateSecret: procedureFor("settings.write")
      .input(IdSchema)
      .output(z.object({ secret: z.string() }))
      .mutation(({ ctx, input }) => rotateWebhookSecret(ctx.services, input.id, ctx.user)),
    sendTest: procedureFor("settings.write")
      .input(IdSchema)
      .output(TestResultSchema)
      .mutation(({ ctx, input }) => sendWebhookTest(ctx.services, configOf(ctx.services), input.id, ctx.user)),
    deliveries: procedureFor("settings.write")
      .input(IdSchema.extend({ limit: z.number().int().min(1).max(200).default(50) }))
      .output(z.object({ deliveries: z.array(DeliveryViewSchema) }))
      .query(async ({ ctx, input }) => ({ deliveries: await listDeliveries(ctx.services, input.id, input.limit) })),
    retryNow: procedureFor("settings.write")
      .input(IdSchema.extend({ deliveryId: z.string().min(1).max(100).nullish() }))
      .output(z.object({ queued: z.number().int() }))
      .mutation(async ({ ctx, input }) => {
        const r = await retryWebhookNow(ctx.services, input.id, input.deliveryId ?? null);
        dispatcherOf(ctx.services)?.wake();
        return r;
      }),
  }),
  email: router({
    get: authedProcedure.output(EmailPrefsViewSchema).query(({ ctx }) => getEmailPrefs(ctx.services, configOf(ctx.services), ctx.user)),
    set: authedProcedure
      .input(EmailPrefsSchema)
      .output(EmailPrefsViewSchema)
      .mutation(({ ctx, input }) => setEmailPrefs(ctx.services, configOf(ctx.services), ctx.user, input)),
    sendTest: authedProcedure.output(TestResultSchema).mutation(({ ctx }) => sendMeTestEmail(configOf(ctx.services), ctx.user)),
  }),
});
