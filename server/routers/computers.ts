import { z } from "zod";
import { ComputerViewSchema, EnrollmentTokenSchema } from "../../core/console-api";
import { createEnrollmentToken, listComputers } from "../services/computers";
import { procedureFor, router } from "../trpc";
import { BundleSchema } from "../../core/bundle";
import { bundlePreview } from "../services/test-access";

export const computersRouter = router({
  list: procedureFor("computers.read")
    .output(z.object({ computers: z.array(ComputerViewSchema) }))
    .query(async ({ ctx }) => ({ computers: await listComputers(ctx.services) })),
  createEnrollmentToken: procedureFor("computers.enroll")
    .output(EnrollmentTokenSchema)
    .mutation(async ({ ctx }) => {
      const t = await createEnrollmentToken(ctx.services, ctx.user);
      return { ...t, command: `jit-agent enroll --server ${ctx.origin} --token ${t.token}` };
    }),
  /** The computer's current bundle, for Test access (the console runs decide() on it in the browser). */
  bundlePreview: procedureFor("computers.read")
    .input(z.object({ computerId: z.string().min(1).max(100) }))
    .output(z.object({ bundle: BundleSchema, serverTime: z.string() }))
    .query(({ ctx, input }) => bundlePreview(ctx.services, input.computerId)),
});
