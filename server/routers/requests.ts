// Elevation requests for the console and jit-ctl: list, get, approve, decline, revoke, and a live change stream (SSE).
import { z } from "zod";
import { DurationTextSchema, RequestListFilterSchema, RequestViewSchema } from "../../core/request";
import { approveRequest, declineRequest, getRequest, listRequests, requestChanges, revokeRequest } from "../services/requests";
import { procedureFor, router } from "../trpc";

const id = z.string().min(1).max(100);
const text = (max: number) => z.string().trim().max(max);

export const requestsRouter = router({
  list: procedureFor("events.read")
    .input(z.object({ status: RequestListFilterSchema.optional(), limit: z.number().int().min(1).max(1000).optional() }).optional())
    .output(z.object({ requests: z.array(RequestViewSchema) }))
    .query(async ({ ctx, input }) => ({ requests: await listRequests(ctx.services, input?.status ?? null, input?.limit ?? 200) })),
  get: procedureFor("events.read").input(z.object({ id })).output(RequestViewSchema).query(({ ctx, input }) => getRequest(ctx.services, input.id)),
  approve: procedureFor("requests.decide")
    .input(z.object({ id, duration: DurationTextSchema.optional(), note: text(2000).optional() }))
    .output(z.object({ request: RequestViewSchema }))
    .mutation(async ({ ctx, input }) => ({ request: await approveRequest(ctx.services, input.id, ctx.user, { duration: input.duration ?? null, note: input.note || null }) })),
  decline: procedureFor("requests.decide")
    .input(z.object({ id, reason: text(2000).min(1, "give a reason for declining") }))
    .output(z.object({ request: RequestViewSchema }))
    .mutation(async ({ ctx, input }) => ({ request: await declineRequest(ctx.services, input.id, ctx.user, input.reason) })),
  revoke: procedureFor("requests.decide")
    .input(z.object({ id, reason: text(2000).optional() }))
    .output(z.object({ request: RequestViewSchema }))
    .mutation(async ({ ctx, input }) => ({ request: await revokeRequest(ctx.services, input.id, ctx.user, input.reason || null) })),
  /** Yields `{ at, ids }` whenever a request changes: submitted, decided, ended, applied on the computer. */
  changes: procedureFor("events.read").subscription(async function* ({ ctx, signal }) {
    yield* requestChanges(ctx.services, signal);
  }),
});
