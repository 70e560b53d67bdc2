// Test support: a request as the agent protocol shows it, for the agent's unit and integration tests.
import type { AgentRequestView } from "../core/protocol";

/** A pending request as the agent protocol shows it (alice, /usr/bin/apt, 30m), with `over` on top. */
export function agentRequestView(over: Partial<AgentRequestView> = {}): AgentRequestView {
  return {
    id: "req_1",
    computer: { id: "cmp_1", name: "build-01" },
    user: "alice",
    app: { path: "/usr/bin/apt", sha256: "a".repeat(64) },
    requestedDuration: "30m",
    justification: "patch the box",
    status: "pending",
    createdAt: "2026-11-27T13:55:00Z",
    waitingSince: "2026-11-27T13:55:00Z",
    decidedAt: null,
    decidedBy: null,
    approvalsNeeded: 1,
    approvalsSoFar: 0,
    grantedDuration: null,
    startsAt: null,
    endsAt: null,
    note: null,
    declineReason: null,
    revokedBy: null,
    revokeReason: null,
    extendsRequestId: null,
    lapsesAt: null,
    applied: { bundleVersion: null, appliedAt: null, computerLastSeenAt: null },
    ...over,
  };
}
