import { describe, expect, it } from "vitest";
import { issuesFromZod } from "../../../core/parse-result";
import { DEFAULT_SETTINGS, SettingsSchema, type Settings } from "../../../core/settings";
import { fieldForSettingsIssue, formToSettings, groupSettingsIssues, newAutoRule, settingsToForm, type SettingsFormState } from "./settings-state";

const keys = () => {
  let n = 1;
  return () => n++;
};

const SAMPLE: Settings = SettingsSchema.parse({
  requests: { enabled: true, maxDuration: "4h", minJustificationLength: 20, lapseAfter: "2d" },
  autonomousApproval: {
    enabled: true,
    rules: [
      {
        id: "r1",
        name: "Build tools",
        enabled: true,
        users: ["alice", "bob"],
        applications: [{ type: "product", product: "gcc", versions: ">=12" }, { type: "folderPath", path: "/opt/tools" }],
        computers: ["build-*"],
        maxDuration: "30m",
      },
      { id: "r2", name: "Everyone, any app", enabled: false, users: "all", applications: "any", computers: "all", maxDuration: "15m" },
    ],
  },
  twoPersonApproval: { enabled: true, approvalsRequired: 3, highRiskApplications: [{ type: "fileHash", sha256: "a".repeat(64) }], longerThan: "8h" },
});

function parse(form: SettingsFormState, base: Settings) {
  const r = SettingsSchema.safeParse(formToSettings(form, base));
  return r.success ? { value: r.data } : { issues: issuesFromZod(r.error) };
}

describe("the Settings form", () => {
  it("turns stored settings into the form and back unchanged", () => {
    for (const s of [DEFAULT_SETTINGS, SAMPLE]) {
      const form = settingsToForm(s, keys());
      expect(parse(form, s)).toEqual({ value: s });
    }
  });

  it("keeps sections it does not edit", () => {
    const base = { ...SAMPLE, audit: { retentionDays: 90 } } as Settings;
    expect(formToSettings(settingsToForm(base, keys()), base)).toMatchObject({ audit: { retentionDays: 90 } });
  });

  it("puts each problem beside its field, in the form's words", () => {
    const next = keys();
    const form = settingsToForm(DEFAULT_SETTINGS, next);
    const rule = newAutoRule(next(), next());
    const bad: SettingsFormState = {
      ...form,
      maxDuration: { amount: "", unit: "h" },
      minJustification: "ten",
      approvalsRequired: "1",
      longerThanOn: true,
      longerThan: { amount: "0", unit: "m" },
      rules: [{ ...rule, users: " ", allComputers: false, computers: "" }],
    };
    const result = parse(bad, DEFAULT_SETTINGS);
    expect(result.issues).toBeDefined();
    const errors = groupSettingsIssues(result.issues!, bad);
    const id = `auto-${rule.key}`;
    const appRow = `rule-${rule.apps[0]!.key}-value`;
    expect(errors).toEqual({
      "requests-maxDuration": ["Enter a whole number of hours, from 1 to 999999."],
      "requests-minJustification": ["Enter a whole number of characters, from 0 to 1000."],
      "two-approvalsRequired": ["Enter a whole number of people, from 2 to 10."],
      "two-longerThan": ["Enter a whole number of minutes, from 1 to 999999."],
      [`${id}-name`]: ["Give the rule a name."],
      [`${id}-users`]: ["Enter at least one user name, or select All users."],
      [`${id}-computers`]: ["Enter at least one computer name, or select All computers."],
      [appRow]: ["A vendor name must not be empty."],
    });
  });

  it("sends an issue about a high-risk rule to that rule's row", () => {
    const form = settingsToForm(SAMPLE, keys());
    const row = form.highRisk[0]!;
    expect(fieldForSettingsIssue({ code: "x", path: "twoPersonApproval.highRiskApplications.0.sha256", message: "m" }, form)).toBe(`rule-${row.key}-value`);
    expect(fieldForSettingsIssue({ code: "x", path: "autonomousApproval.rules.0.applications.0.versions", message: "m" }, form)).toBe(
      `rule-${form.rules[0]!.apps[0]!.key}-versions`,
    );
    expect(fieldForSettingsIssue({ code: "x", path: "somethingElse", message: "m" }, form)).toBe("form");
  });
});
