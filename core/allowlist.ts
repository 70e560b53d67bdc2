// The allowlist: named app rules that application control allows. "All Allowed Application(s)" in a policy means
// exactly these, at the time of each decision. The file `jit-ctl allowlist apply -f FILE` reads is the whole list.
import { z } from "zod";
import { AppRuleSchema } from "./app-rule";
import { parseWith, type ParseResult } from "./parse-result";

const entryName = z
  .string({ error: "expected a name (a string)" })
  .trim()
  .min(1, "a name must not be empty")
  .max(120, "a name is at most 120 characters")
  .refine((s) => !/[\u0000-\u001f]/.test(s), "a name must not hold control characters");

/** One entry as an admin writes it (console form, allowlist file). */
export const AllowlistEntryInputSchema = z.strictObject({
  name: entryName,
  description: z.string({ error: "expected a description (a string)" }).trim().max(2000, "the description is at most 2000 characters").default(""),
  rule: AppRuleSchema,
});
export type AllowlistEntryInput = z.output<typeof AllowlistEntryInputSchema>;

export const AllowlistFileSchema = z
  .strictObject({ entries: z.array(AllowlistEntryInputSchema, { error: "expected entries: a list of {name, rule}" }).max(5000, "at most 5000 entries") })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.entries.forEach((e, i) => {
      const key = e.name.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["entries", i, "name"], message: `the name "${e.name}" is used twice (entries ${seen.get(key)} and ${i})` });
      else seen.set(key, i);
    });
  });
export type AllowlistFile = z.output<typeof AllowlistFileSchema>;

export function parseAllowlistFile(input: unknown): ParseResult<AllowlistFile> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { issues: [{ code: "invalid_type", path: "", message: 'expected an allowlist (a JSON object {"entries": [...]})' }] };
  }
  return parseWith(AllowlistFileSchema, input);
}

export const AllowlistEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  rule: AppRuleSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AllowlistEntry = z.infer<typeof AllowlistEntrySchema>;

export const AllowlistApplyResultSchema = z.object({ added: z.number().int(), changed: z.number().int(), removed: z.number().int(), unchanged: z.number().int() });
export type AllowlistApplyResult = z.infer<typeof AllowlistApplyResultSchema>;
