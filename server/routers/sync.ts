// Replication to the console's offline store (issue 5): sync.pull, sync.push (the outbox) and sync.stream (SSE).
// Shapes and rules: core/sync.ts. Every procedure needs a session (UNAUTHORIZED without one, so a stale tab gets nothing).
import { PullInputSchema, PullOutputSchema, PushInputSchema, PushOutputSchema } from "../../core/sync";
import { pull, pushOutbox, syncStream } from "../services/sync";
import { authedProcedure, router } from "../trpc";

export const syncRouter = router({
  /** The documents of one collection after the checkpoint, in (updatedAt, id) order, as this user's role may see them. */
  pull: authedProcedure
    .input(PullInputSchema)
    .output(PullOutputSchema)
    .query(({ ctx, input }) => pull(ctx.services, ctx.user, input.collection, input.checkpoint, input.limit)),
  /** Outbox entries, each run once as this user; answers with the server's state of each (RxDB's conflicts). */
  push: authedProcedure
    .input(PushInputSchema)
    .output(PushOutputSchema)
    .mutation(async ({ ctx, input }) => ({ conflicts: await pushOutbox(ctx.services, ctx.user, input.rows) })),
  /** Yields `{ collection, checkpoint }` whenever a collection this user may pull has changed: pull it again. */
  stream: authedProcedure.subscription(async function* ({ ctx, signal }) {
    yield* syncStream(ctx.services, ctx.user, ctx.session.id, signal);
  }),
});
