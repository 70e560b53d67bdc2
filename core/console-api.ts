// Shapes the console and jit-ctl read from the server's tRPC API (the inputs are the policy and auth schemas).
import { z } from "zod";
import { PolicySchema, PolicyStatusSchema } from "./policy";
import { RoleSchema } from "./roles";

export const PasswordSchema = z.string().min(12, "a password has at least 12 characters").max(256, "a password has at most 256 characters");
export const EmailSchema = z.string().trim().toLowerCase().pipe(z.email("expected an email address")).pipe(z.string().max(254));
export const CredentialsSchema = z.object({ email: EmailSchema, password: z.string().min(1, "enter the password").max(256) });
export const SetupOwnerSchema = z.object({ email: EmailSchema, password: PasswordSchema });

export const ConsoleUserSchema = z.object({ id: z.string(), email: z.string(), role: RoleSchema });
export type ConsoleUser = z.infer<typeof ConsoleUserSchema>;

export const AuthStatusSchema = z.object({ needsOwner: z.boolean(), user: ConsoleUserSchema.nullable() });
export type AuthStatus = z.infer<typeof AuthStatusSchema>;

export const PolicyViewSchema = PolicySchema.extend({
  /** draft | deployed | disabled | expired, with "expired" once a deployed policy's time has passed. */
  effectiveStatus: PolicyStatusSchema,
  startsAt: z.string().nullable(),
  endsAt: z.string().nullable(),
});
export type PolicyView = z.infer<typeof PolicyViewSchema>;

export const ApplyPolicyResultSchema = z.object({
  policy: PolicyViewSchema,
  created: z.boolean(),
  changed: z.boolean(),
  deployed: z.boolean(),
});
export type ApplyPolicyResult = z.infer<typeof ApplyPolicyResultSchema>;

export const ComputerViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  os: z.string(),
  agentVersion: z.string(),
  enrolledAt: z.string(),
  lastSeenAt: z.string().nullable(),
  /** The bundle version the agent last reported it applied, and the newest one the server has for it. */
  bundleVersion: z.number().int().nullable(),
  latestBundleVersion: z.number().int().nullable(),
});
export type ComputerView = z.infer<typeof ComputerViewSchema>;

export const EnrollmentTokenSchema = z.object({ token: z.string(), expiresAt: z.string(), command: z.string() });
export type EnrollmentToken = z.infer<typeof EnrollmentTokenSchema>;
