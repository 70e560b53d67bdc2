import { z } from "zod";
import { ComputerViewSchema, EnrollmentTokenSchema } from "../../core/console-api";
import { createEnrollmentToken, listComputers } from "../services/computers";
import { procedureFor, router } from "../trpc";

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
});
