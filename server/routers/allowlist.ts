import { z } from "zod";
import { AllowlistApplyResultSchema, AllowlistEntryInputSchema, AllowlistEntrySchema, parseAllowlistFile } from "../../core/allowlist";
import { AppError } from "../../core/app-error";
import { addAllowlistEntry, applyAllowlist, listAllowlist, removeAllowlistEntry } from "../services/allowlist";
import { procedureFor, router } from "../trpc";

export const allowlistRouter = router({
  list: procedureFor("policies.read")
    .output(z.object({ entries: z.array(AllowlistEntrySchema) }))
    .query(async ({ ctx }) => ({ entries: await listAllowlist(ctx.services) })),
  add: procedureFor("policies.write")
    .input(AllowlistEntryInputSchema)
    .output(AllowlistEntrySchema)
    .mutation(({ ctx, input }) => addAllowlistEntry(ctx.services, input, ctx.user)),
  remove: procedureFor("policies.write")
    .input(z.object({ id: z.string().min(1).max(100) }))
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await removeAllowlistEntry(ctx.services, input.id, ctx.user);
      return { ok: true as const };
    }),
  // The file is parsed by its own parser, so jit-ctl shows every problem with its path.
  applyFile: procedureFor("policies.write")
    .input(z.unknown())
    .output(AllowlistApplyResultSchema)
    .mutation(({ ctx, input }) => {
      const r = parseAllowlistFile(input);
      if (r.issues) throw new AppError("bad_request", r.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("\n"), { issues: r.issues });
      return applyAllowlist(ctx.services, r.value, ctx.user);
    }),
});
