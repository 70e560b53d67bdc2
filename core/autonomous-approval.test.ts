import { describe, expect, it } from "vitest";
import { approvalsNeeded, matchAutonomousApproval, type RequestFacts } from "./autonomous-approval";
import { SettingsSchema, type AutonomousRule } from "./settings";

const SHA = "c".repeat(64);
const req = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  user: "alice",
  computerName: "build-01",
  app: { path: "/usr/bin/make", sha256: SHA },
  duration: "30m",
  ...over,
});
const rule = (over: Partial<AutonomousRule> = {}): AutonomousRule => ({
  id: "r1",
  name: "Build tools",
  enabled: true,
  users: ["alice"],
  applications: [{ type: "fileHash", sha256: SHA }],
  computers: ["build-*"],
  maxDuration: "1h",
  ...over,
});
const on = (...rules: AutonomousRule[]) => ({ enabled: true, rules });

describe("autonomous approval matching", () => {
  const cases: Array<[string, ReturnType<typeof on>, RequestFacts, string | null]> = [
    ["a matching rule approves", on(rule()), req(), "r1"],
    ["autonomous approval off", { enabled: false, rules: [rule()] }, req(), null],
    ["a rule that is off", on(rule({ enabled: false })), req(), null],
    ["another user", on(rule()), req({ user: "bob" }), null],
    ["user names compare like the OS does", on(rule()), req({ user: "CORP\\Alice" }), "r1"],
    ["all users", on(rule({ users: "all" })), req({ user: "bob" }), "r1"],
    ["another app", on(rule()), req({ app: { path: "/usr/bin/x", sha256: "d".repeat(64) } }), null],
    ["any app", on(rule({ applications: "any" })), req({ app: { path: "/usr/bin/x", sha256: "d".repeat(64) } }), "r1"],
    ["a folder rule", on(rule({ applications: [{ type: "folderPath", path: "/usr/bin" }] })), req(), "r1"],
    ["another computer", on(rule()), req({ computerName: "db-01" }), null],
    ["all computers", on(rule({ computers: "all" })), req({ computerName: "db-01" }), "r1"],
    ["longer than the rule's maximum waits for a person", on(rule()), req({ duration: "2h" }), null],
    ["exactly the maximum", on(rule()), req({ duration: "60m" }), "r1"],
    ["the first matching rule wins", on(rule({ id: "r0", users: ["bob"] }), rule({ id: "r2" }), rule({ id: "r3" })), req(), "r2"],
    ["an unknown hash never matches a hash rule", on(rule()), req({ app: { path: "/usr/bin/make", sha256: null } }), null],
  ];
  for (const [name, settings, facts, want] of cases) {
    it(name, () => {
      const r = matchAutonomousApproval(settings, facts);
      expect(r.approvedBy?.id ?? null).toBe(want);
    });
  }

  it("explains each rule it tried", () => {
    const r = matchAutonomousApproval(on(rule({ id: "a", users: ["bob"] }), rule({ id: "b", maxDuration: "10m" })), req());
    expect(r.verdicts.map((v) => [v.ruleId, v.matched, v.detail])).toEqual([
      ["a", false, "alice is not a trusted user of this rule"],
      ["b", false, "30m is longer than the rule's maximum 10m"],
    ]);
  });
});

describe("two-person approval", () => {
  const base = SettingsSchema.parse({}).twoPersonApproval;
  it("needs one approval when off", () => expect(approvalsNeeded(base, req())).toBe(1));
  it("needs N for a high-risk app", () => {
    expect(approvalsNeeded({ ...base, enabled: true, approvalsRequired: 3, highRiskApplications: [{ type: "fileHash", sha256: SHA }] }, req())).toBe(3);
  });
  it("needs N for a longer duration only", () => {
    const s = { ...base, enabled: true, longerThan: "1h" };
    expect(approvalsNeeded(s, req({ duration: "1h" }))).toBe(1);
    expect(approvalsNeeded(s, req({ duration: "61m" }))).toBe(2);
  });
});

describe("settings", () => {
  it("has the documented defaults", () => {
    expect(SettingsSchema.parse({})).toEqual({
      requests: { enabled: true, maxDuration: "8h", minJustificationLength: 10, lapseAfter: "24h" },
      autonomousApproval: { enabled: false, rules: [] },
      twoPersonApproval: { enabled: false, approvalsRequired: 2, highRiskApplications: [], longerThan: null },
    });
  });
  it("refuses a bad duration with a message for people", () => {
    const r = SettingsSchema.safeParse({ requests: { maxDuration: "forever" } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/expected a duration like 30m/);
  });
});
