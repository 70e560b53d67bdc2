import { describe, expect, it } from "vitest";
import { agentMode } from "./mode";

const now = new Date("2026-03-01T10:00:00Z");
describe("agentMode", () => {
  it.each([
    [null, false, "none"],
    [null, true, "none"],
    ["2026-03-02T00:00:00Z", false, "live"],
    ["2026-03-02T00:00:00Z", true, "cached"],
    ["2026-03-01T10:00:00Z", false, "stale"],
    ["2026-02-01T00:00:00Z", true, "stale"],
  ] as const)("validUntil %s, last attempt failed %s → %s", (validUntil, lastAttemptFailed, mode) => {
    expect(agentMode({ validUntil, lastAttemptFailed, now })).toBe(mode);
  });
});
