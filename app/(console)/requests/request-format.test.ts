import { describe, expect, it } from "vitest";
import type { RequestView } from "../../../core/request";
import { describeApplied, formatCountdown, formatSpan, grantableDurations, isActive } from "./request-format";

const NOW = Date.parse("2026-11-27T10:42:07Z");

function request(patch: Partial<RequestView>): RequestView {
  return {
    id: "r1",
    computer: { id: "c1", name: "build-01" },
    user: "alice",
    app: { path: "/opt/tools/build", sha256: "a".repeat(64) },
    requestedDuration: "30m",
    justification: "Release 4.2",
    status: "approved",
    createdAt: "2026-11-27T10:40:00Z",
    waitingSince: "2026-11-27T10:40:00Z",
    decidedAt: "2026-11-27T10:41:00Z",
    decidedBy: { type: "user", id: "u1", name: "dana@example.com" },
    approvals: [],
    approvalsNeeded: 1,
    grantedDuration: "30m",
    startsAt: "2026-11-27T10:41:00Z",
    endsAt: "2026-11-27T11:11:00Z",
    note: null,
    declineReason: null,
    revokedBy: null,
    revokeReason: null,
    extendsRequestId: null,
    lapsesAt: null,
    applied: { bundleVersion: 7, appliedAt: null, computerLastSeenAt: "2026-11-27T07:42:07Z" },
    ...patch,
  };
}

describe("showing requests", () => {
  it("offers what was asked and the standard shorter durations, never longer", () => {
    expect(grantableDurations("1h")).toEqual(["1h", "30m", "15m", "5m"]);
    expect(grantableDurations("45m")).toEqual(["45m", "30m", "15m", "5m"]);
    expect(grantableDurations("5m")).toEqual(["5m"]);
  });

  it("counts down and spans time for people", () => {
    expect(formatCountdown(299_001)).toBe("5:00");
    expect(formatCountdown(3_723_000)).toBe("1:02:03");
    expect(formatCountdown(-5)).toBe("0:00");
    expect(formatSpan(45_000)).toBe("45 s");
    expect(formatSpan(3 * 3_600_000 + 5 * 60_000)).toBe("3 h 05 min");
    expect(formatSpan(2 * 86_400_000 + 4 * 3_600_000)).toBe("2 d 4 h");
  });

  it("treats an approved request past its end as no longer active", () => {
    expect(isActive(request({}), NOW)).toBe(true);
    expect(isActive(request({ endsAt: "2026-11-27T10:42:00Z" }), NOW)).toBe(false);
    expect(isActive(request({ status: "pending" }), NOW)).toBe(false);
  });

  it("says whether the computer applied the decision", () => {
    expect(describeApplied(request({}), NOW)).toEqual({ applied: false, text: "not yet applied — computer last seen 3 hours ago" });
    const applied = describeApplied(request({ applied: { bundleVersion: 7, appliedAt: "2026-11-27T10:41:01Z", computerLastSeenAt: null } }), NOW);
    expect(applied?.applied).toBe(true);
    expect(applied?.text).toMatch(/^applied on build-01 at \d{2}:\d{2}:\d{2}$/);
    // Pending and declined requests change nothing on the computer.
    expect(describeApplied(request({ status: "pending" }), NOW)).toBeNull();
    expect(describeApplied(request({ status: "declined", applied: { bundleVersion: null, appliedAt: null, computerLastSeenAt: null } }), NOW)).toBeNull();
  });
});
