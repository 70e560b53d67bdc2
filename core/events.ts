// The audit trail's event types: one name each, shared by the server (which writes them), the console and jit-ctl
// (which filter and show them). Add a type here before writing it anywhere.
export const EVENT_TYPES = {
  "console.sign_in": "Console sign-in",
  "console.sign_in_failed": "Failed console sign-in",
  "console.sign_out": "Console sign-out",
  "user.created": "Console user created",
  "user.role_changed": "Console user's role changed",
  "user.disabled": "Console user disabled",
  "policy.created": "Policy created",
  "policy.edited": "Policy edited",
  "policy.deployed": "Policy deployed",
  "policy.disabled": "Policy disabled",
  "policy.expired": "Policy expired",
  "policy.deleted": "Draft policy deleted",
  "allowlist.changed": "Allowlist changed",
  "settings.changed": "Settings changed",
  "enrollment_token.created": "Enrollment token created",
  "computer.enrolled": "Computer enrolled (token used)",
  "computer.re_enrolled": "Computer re-enrolled (token used)",
  "agent.credential_revoked": "Agent credential revoked",
  "request.submitted": "Elevation request submitted",
  "request.approval_recorded": "Approval recorded (more approvals needed)",
  "request.approved": "Elevation request approved",
  "request.declined": "Elevation request declined",
  "request.cancelled": "Elevation request cancelled",
  "request.lapsed": "Elevation request lapsed (never answered)",
  "request.revoked": "Elevation revoked",
  "request.expired": "Elevation expired",
  "request.ended_early": "Elevation ended early by the user",
  "agent.elevation_allowed": "Elevation allowed on the computer",
  "agent.elevation_denied": "Elevation denied on the computer",
  "agent.grant_ended": "Grant ended on the computer",
  "agent.process_ended": "Elevated process ended on the computer (its grant ended)",
  "audit.segment_pruned": "Old audit segment exported and pruned",
} as const;

export type EventType = keyof typeof EVENT_TYPES;
export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];
