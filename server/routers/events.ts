// The audit trail for the console and jit-ctl: the Events report's pages, the chain verification, retention.
import { z } from "zod";
import { EventListInputSchema, EventPageSchema, RetentionSchema, VerificationSchema } from "../../core/audit";
import { getRetention, lastVerification, setRetention, verifyChain } from "../services/audit";
import { listEvents } from "../services/events";
import { procedureFor, router } from "../trpc";

export const eventsRouter = router({
  list: procedureFor("events.read")
    .input(EventListInputSchema)
    .output(EventPageSchema)
    .query(({ ctx, input }) => listEvents(ctx.services, input)),
  lastVerification: procedureFor("events.read")
    .output(z.object({ verification: VerificationSchema.nullable() }))
    .query(async ({ ctx }) => ({ verification: await lastVerification(ctx.services) })),
  verify: procedureFor("events.read")
    .output(VerificationSchema)
    .mutation(({ ctx }) => verifyChain(ctx.services, { by: ctx.user.email })),
  retention: procedureFor("events.read")
    .output(RetentionSchema)
    .query(({ ctx }) => getRetention(ctx.services)),
  setRetention: procedureFor("settings.write")
    .input(RetentionSchema)
    .output(RetentionSchema)
    .mutation(({ ctx, input }) => setRetention(ctx.services, input, { type: "user", id: ctx.user.id, name: ctx.user.email })),
});
