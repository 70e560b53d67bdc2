// Console roles and what each may do. Checked by the server's tRPC middleware; the console hides what a role cannot do.
import { z } from "zod";

export const ROLES = ["owner", "admin", "approver", "auditor"] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export const PERMISSIONS = {
  "policies.read": ["owner", "admin", "approver", "auditor"],
  "policies.write": ["owner", "admin"],
  "computers.read": ["owner", "admin", "approver", "auditor"],
  "computers.enroll": ["owner", "admin"],
  "requests.decide": ["owner", "admin", "approver"],
  "settings.write": ["owner", "admin"],
  "users.manage": ["owner"],
  "events.read": ["owner", "admin", "approver", "auditor"],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

export const ROLE_LABELS: Record<Role, string> = { owner: "Owner", admin: "Admin", approver: "Approver", auditor: "Auditor" };
