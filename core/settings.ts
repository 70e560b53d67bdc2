// Settings an admin edits in the console (Settings page): requests, Autonomous Approval, two-person approval.
import { z } from "zod";
import { AppRuleSchema } from "./app-rule";
import { DURATION_PATTERN } from "./duration";

const duration = (fallback: string) =>
  z
    .string({ error: "expected a duration like 30m, 8h or 1d" })
    .trim()
    .refine((s) => DURATION_PATTERN.test(s), { error: (iss) => `expected a duration like 30m, 8h or 1d, got ${JSON.stringify(iss.input)}` })
    .default(fallback);

const nameList = (what: string) => z.array(z.string().trim().min(1, `${what} must not be empty`).max(253)).min(1, `name at least one ${what}, or choose all`);

export const AutonomousRuleSchema = z.object({
  id: z.string().min(1).max(100),
  name: z.string().trim().min(1, "give the rule a name").max(120),
  enabled: z.boolean().default(true),
  /** Trusted users (end-user account names), or every user. */
  users: z.union([z.literal("all"), nameList("user")]),
  /** Low-risk applications (app rules), or any application. */
  applications: z.union([z.literal("any"), z.array(AppRuleSchema).min(1, "add at least one application rule, or choose any")]),
  /** Computers by name or pattern (build-*), or every computer. */
  computers: z.union([z.literal("all"), nameList("computer")]),
  /** A request for longer than this waits for a person. */
  maxDuration: duration("1h"),
});
export type AutonomousRule = z.infer<typeof AutonomousRuleSchema>;

export const SettingsSchema = z.object({
  requests: z
    .object({
      enabled: z.boolean().default(true),
      maxDuration: duration("8h"),
      minJustificationLength: z.number().int().min(0).max(1000).default(10),
      /** A request nobody answers within this time lapses. */
      lapseAfter: duration("24h"),
    })
    .default({ enabled: true, maxDuration: "8h", minJustificationLength: 10, lapseAfter: "24h" }),
  autonomousApproval: z
    .object({
      enabled: z.boolean().default(false),
      rules: z.array(AutonomousRuleSchema).max(200).default([]),
    })
    .default({ enabled: false, rules: [] }),
  twoPersonApproval: z
    .object({
      enabled: z.boolean().default(false),
      approvalsRequired: z.number().int().min(2).max(10).default(2),
      /** Requests for an app matching one of these need N approvals. */
      highRiskApplications: z.array(AppRuleSchema).max(500).default([]),
      /** Requests longer than this need N approvals (null: no length rule). */
      longerThan: z
        .string()
        .trim()
        .refine((s) => DURATION_PATTERN.test(s), { error: (iss) => `expected a duration like 4h, got ${JSON.stringify(iss.input)}` })
        .nullable()
        .default(null),
    })
    .default({ enabled: false, approvalsRequired: 2, highRiskApplications: [], longerThan: null }),
});
export type Settings = z.infer<typeof SettingsSchema>;
export type SettingsInput = z.input<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: Settings = SettingsSchema.parse({});
