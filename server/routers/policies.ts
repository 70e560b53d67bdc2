import { z } from "zod";
import { ApplyPolicyResultSchema, PolicyViewSchema } from "../../core/console-api";
import {
  applyPolicy,
  deletePolicy,
  duplicatePolicy,
  getPolicy,
  listPolicies,
  listPolicyVersions,
  parsePolicyInput,
  PolicyVersionSchema,
  setPolicyStatus,
} from "../services/policies";
import { procedureFor, router } from "../trpc";

// The input is parsed by the policy file's own parser, so the console and jit-ctl get the same messages.
const policyInput = z.unknown();
const byId = z.object({ id: z.string().min(1).max(100) });

export const policiesRouter = router({
  list: procedureFor("policies.read")
    .output(z.object({ policies: z.array(PolicyViewSchema) }))
    .query(async ({ ctx }) => ({ policies: await listPolicies(ctx.services) })),
  get: procedureFor("policies.read").input(byId).output(PolicyViewSchema).query(({ ctx, input }) => getPolicy(ctx.services, input.id)),
  create: procedureFor("policies.write")
    .input(policyInput)
    .output(ApplyPolicyResultSchema)
    .mutation(({ ctx, input }) => applyPolicy(ctx.services, parsePolicyInput(input), ctx.user, "create")),
  upsert: procedureFor("policies.write")
    .input(policyInput)
    .output(ApplyPolicyResultSchema)
    .mutation(({ ctx, input }) => applyPolicy(ctx.services, parsePolicyInput(input), ctx.user, "upsert")),
  deploy: procedureFor("policies.write")
    .input(byId)
    .output(z.object({ policy: PolicyViewSchema }))
    .mutation(async ({ ctx, input }) => ({ policy: await setPolicyStatus(ctx.services, input.id, "deploy", ctx.user) })),
  disable: procedureFor("policies.write")
    .input(byId)
    .output(z.object({ policy: PolicyViewSchema }))
    .mutation(async ({ ctx, input }) => ({ policy: await setPolicyStatus(ctx.services, input.id, "disable", ctx.user) })),
  /** Edit by id: a changed deployed policy becomes a new revision and is redeployed; the old revision stays readable. */
  update: procedureFor("policies.write")
    .input(z.object({ id: z.string().min(1).max(100), policy: policyInput }))
    .output(ApplyPolicyResultSchema)
    .mutation(({ ctx, input }) => applyPolicy(ctx.services, parsePolicyInput(input.policy), ctx.user, { id: input.id })),
  versions: procedureFor("policies.read")
    .input(byId)
    .output(z.object({ versions: z.array(PolicyVersionSchema) }))
    .query(async ({ ctx, input }) => ({ versions: await listPolicyVersions(ctx.services, input.id) })),
  duplicate: procedureFor("policies.write")
    .input(byId)
    .output(ApplyPolicyResultSchema)
    .mutation(({ ctx, input }) => duplicatePolicy(ctx.services, input.id, ctx.user)),
  delete: procedureFor("policies.write")
    .input(byId)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await deletePolicy(ctx.services, input.id, ctx.user);
      return { ok: true as const };
    }),
});
