// JIT policies (Application Elevation): the policy file / console form schema, and the stored policy.
import { z } from "zod";
import { AppRuleSchema } from "./app-rule";
import { DURATION_PATTERN, durationMs } from "./duration";
import { parseWith, type ParseResult } from "./parse-result";

const isoWithOffset = (what: string) =>
  z.iso.datetime({
    offset: true,
    error: (iss) => `expected ${what} as ISO 8601 with an offset (2026-03-01T09:00:00+01:00), got ${JSON.stringify(iss.input)}`,
  });

export const FixedDurationSchema = z.strictObject({
  type: z.literal("fixed"),
  length: z.string({ error: (iss) => `expected <n>m|<n>h|<n>d, got ${JSON.stringify(iss.input)}` }).refine((s) => DURATION_PATTERN.test(s), {
    error: (iss) => `expected <n>m|<n>h|<n>d, got ${JSON.stringify(iss.input)}`,
  }),
});
export const WindowDurationSchema = z
  .strictObject({ type: z.literal("window"), start: isoWithOffset("the start"), end: isoWithOffset("the end") })
  .refine((w) => Date.parse(w.end) > Date.parse(w.start), { path: ["end"], error: "the window must end after it starts" });

export const PolicyDurationSchema = z.discriminatedUnion("type", [FixedDurationSchema, WindowDurationSchema], {
  error: (iss) => (iss.code === "invalid_union" ? `expected a duration type, "fixed" or "window"` : undefined),
});
export type PolicyDuration = z.infer<typeof PolicyDurationSchema>;

const nameSchema = (what: string) =>
  z
    .string({ error: `expected ${what} (a string)` })
    .trim()
    .min(1, `${what} must not be empty`)
    .max(253, `${what} is longer than 253 characters`)
    .refine((s) => !/[\u0000-\u001f]/.test(s), `${what} must not hold control characters`);

/** A keyword ("all") or a list, reporting the list's own problems by path when a list was given. */
function keywordOrList<K extends string, L extends z.ZodType>(keyword: K, list: L, message: string) {
  return z.unknown().transform((input, ctx): K | z.output<L> => {
    if (input === keyword) return keyword;
    if (!Array.isArray(input)) {
      ctx.addIssue({ code: "custom", message: `${message}, got ${JSON.stringify(input) ?? "nothing"}` });
      return z.NEVER;
    }
    const r = list.safeParse(input);
    if (r.success) return r.data as z.output<L>;
    for (const issue of r.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    return z.NEVER;
  });
}

export const PolicyUsersSchema = keywordOrList("all", z.array(nameSchema("a user name")).min(1, 'name at least one user, or "all"'), 'expected "all" or a list of user names');
export const PolicyApplicationsSchema = keywordOrList(
  "allAllowed",
  z.array(AppRuleSchema).min(1, 'add at least one rule, or use "allAllowed"').max(500, "at most 500 rules"),
  'expected "allAllowed" or a list of rules',
);

/** A policy as an admin writes it: the policy file, and the console's Create → Application Elevation form. */
export const PolicyFileSchema = z.strictObject({
  name: nameSchema("a name").pipe(z.string().max(120, "a name is at most 120 characters")),
  description: z.string({ error: "expected a description (a string)" }).trim().max(2000, "the description is at most 2000 characters").default(""),
  computers: z.array(nameSchema("a computer name"), { error: "expected a list of computer names" }).min(1, "name at least one computer").max(10_000),
  users: PolicyUsersSchema,
  duration: PolicyDurationSchema,
  applications: PolicyApplicationsSchema,
  deploy: z.boolean({ error: "expected true or false" }).default(false),
});
export type PolicyFile = z.output<typeof PolicyFileSchema>;
export type PolicyFileInput = z.input<typeof PolicyFileSchema>;

export function parsePolicyFile(input: unknown): ParseResult<PolicyFile> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { issues: [{ code: "invalid_type", path: "", message: "expected a policy (a JSON object)" }] };
  }
  return parseWith(PolicyFileSchema, input);
}

export const POLICY_STATUSES = ["draft", "deployed", "disabled", "expired"] as const;
export const PolicyStatusSchema = z.enum(POLICY_STATUSES);
export type PolicyStatus = z.infer<typeof PolicyStatusSchema>;

/** A policy as the server keeps it. Times are ISO 8601 in UTC. */
export const PolicySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  computers: z.array(z.string()),
  users: PolicyUsersSchema,
  duration: PolicyDurationSchema,
  applications: PolicyApplicationsSchema,
  status: PolicyStatusSchema,
  revision: z.number().int(),
  deployedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Policy = z.infer<typeof PolicySchema>;

/** When a deployed policy is in force: Fixed counts from deployment, Window is its own start and end. */
export function policyActiveSpan(duration: PolicyDuration, deployedAt: Date): { startsAt: Date; endsAt: Date } {
  if (duration.type === "window") return { startsAt: new Date(duration.start), endsAt: new Date(duration.end) };
  const ms = durationMs(duration.length);
  if (ms === null) throw new Error(`bad duration length ${duration.length}`);
  return { startsAt: deployedAt, endsAt: new Date(deployedAt.getTime() + ms) };
}

/** The status an admin sees: a deployed policy whose time has passed shows as expired. */
export function effectiveStatus(policy: Pick<Policy, "status" | "duration" | "deployedAt">, now: Date): PolicyStatus {
  if (policy.status !== "deployed" || !policy.deployedAt) return policy.status;
  return policyActiveSpan(policy.duration, new Date(policy.deployedAt)).endsAt <= now ? "expired" : "deployed";
}
