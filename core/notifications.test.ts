import { describe, expect, it } from "vitest";
import { notificationKindOf, notificationKindsFor, retryDelayMs } from "./notifications";

describe("retryDelayMs", () => {
  const p = { baseMs: 1_000, capMs: 300_000 };
  it("doubles from the base up to the cap", () => {
    expect([1, 2, 3, 4, 9, 10, 50].map((a) => retryDelayMs(a, p, 0.5))).toEqual([1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000]);
  });
  it("jitters by ±20 %", () => {
    expect(retryDelayMs(3, p, 0)).toBe(3_200);
    expect(retryDelayMs(3, p, 0.999999)).toBe(4_800);
  });
});

describe("notification kinds", () => {
  it("maps audit events to kinds", () => {
    expect(notificationKindOf("request.approved")).toBe("request.decided");
    expect(notificationKindOf("request.expired")).toBe("grant.ended");
    expect(notificationKindOf("webhook.changed")).toBeNull();
  });
  it("offers requests and grants only to roles that decide requests", () => {
    expect(notificationKindsFor("approver")).toEqual(["request.submitted", "request.decided", "grant.ended", "policy.deployed", "audit.verify_failed"]);
    expect(notificationKindsFor("auditor")).toEqual(["policy.deployed", "audit.verify_failed"]);
  });
});
