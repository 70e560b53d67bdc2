// The Settings form's state: how it is made from the stored settings, the settings it becomes, and which field
// each problem of the core schema belongs beside.
import { APP_RULE_VALUE_FIELD, type AppRule } from "../../../core/app-rule";
import { DURATION_PATTERN } from "../../../core/duration";
import type { ParseIssue } from "../../../core/parse-result";
import type { AutonomousRule, Settings } from "../../../core/settings";
import { splitNames, UNIT_LABELS, type DurationUnit, type RuleRow } from "../../_lib/policy-form";

export type DurationValue = { amount: string; unit: DurationUnit };

export type AutoRuleForm = {
  key: number;
  id: string;
  name: string;
  enabled: boolean;
  allUsers: boolean;
  users: string;
  anyApp: boolean;
  apps: RuleRow[];
  allComputers: boolean;
  computers: string;
  maxDuration: DurationValue;
};

export type SettingsFormState = {
  requestsEnabled: boolean;
  maxDuration: DurationValue;
  minJustification: string;
  lapseAfter: DurationValue;
  autoEnabled: boolean;
  rules: AutoRuleForm[];
  twoEnabled: boolean;
  approvalsRequired: string;
  highRisk: RuleRow[];
  longerThanOn: boolean;
  longerThan: DurationValue;
};

export function parseDuration(text: string | null | undefined, fallback: DurationValue): DurationValue {
  const m = DURATION_PATTERN.exec((text ?? "").trim());
  return m ? { amount: m[1]!, unit: m[2] as DurationUnit } : fallback;
}

export function durationText(d: DurationValue): string {
  return `${d.amount.trim()}${d.unit}`;
}

/** Keys for rows, unique on the page (they make the fields' ids). */
export type KeySource = () => number;

export function ruleToRow(rule: AppRule, key: number): RuleRow {
  const value = String((rule as Record<string, unknown>)[APP_RULE_VALUE_FIELD[rule.type]] ?? "");
  return { key, type: rule.type, value, versions: rule.type === "product" ? (rule.versions ?? "") : "" };
}

export function rowToRule(row: RuleRow): Record<string, string> {
  const rule: Record<string, string> = { type: row.type, [APP_RULE_VALUE_FIELD[row.type]]: row.value };
  if (row.type === "product" && row.versions.trim() !== "") rule.versions = row.versions;
  return rule;
}

export function newRuleId(): string {
  const c = globalThis.crypto;
  // randomUUID needs a secure context (https or localhost); a console reached over plain http elsewhere still works.
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `rule-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export function newAutoRule(key: number, firstAppKey: number): AutoRuleForm {
  return {
    key,
    id: newRuleId(),
    name: "",
    enabled: true,
    allUsers: false,
    users: "",
    anyApp: false,
    apps: [{ key: firstAppKey, type: "vendor", value: "", versions: "" }],
    allComputers: true,
    computers: "",
    maxDuration: { amount: "1", unit: "h" },
  };
}

function autoRuleToForm(rule: AutonomousRule, nextKey: KeySource): AutoRuleForm {
  return {
    key: nextKey(),
    id: rule.id,
    name: rule.name,
    enabled: rule.enabled,
    allUsers: rule.users === "all",
    users: rule.users === "all" ? "" : rule.users.join("\n"),
    anyApp: rule.applications === "any",
    apps: rule.applications === "any" ? [] : rule.applications.map((a) => ruleToRow(a, nextKey())),
    allComputers: rule.computers === "all",
    computers: rule.computers === "all" ? "" : rule.computers.join("\n"),
    maxDuration: parseDuration(rule.maxDuration, { amount: "1", unit: "h" }),
  };
}

export function settingsToForm(s: Settings, nextKey: KeySource): SettingsFormState {
  return {
    requestsEnabled: s.requests.enabled,
    maxDuration: parseDuration(s.requests.maxDuration, { amount: "8", unit: "h" }),
    minJustification: String(s.requests.minJustificationLength),
    lapseAfter: parseDuration(s.requests.lapseAfter, { amount: "24", unit: "h" }),
    autoEnabled: s.autonomousApproval.enabled,
    rules: s.autonomousApproval.rules.map((r) => autoRuleToForm(r, nextKey)),
    twoEnabled: s.twoPersonApproval.enabled,
    approvalsRequired: String(s.twoPersonApproval.approvalsRequired),
    highRisk: s.twoPersonApproval.highRiskApplications.map((a) => ruleToRow(a, nextKey())),
    longerThanOn: s.twoPersonApproval.longerThan !== null,
    longerThan: parseDuration(s.twoPersonApproval.longerThan, { amount: "4", unit: "h" }),
  };
}

const wholeNumber = (text: string): number => (/^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN);

/**
 * The settings the form stands for, ready for SettingsSchema. `base` is what was loaded: sections this form
 * does not edit (added later by others) go back unchanged.
 */
export function formToSettings(form: SettingsFormState, base: Settings): Record<string, unknown> {
  return {
    ...base,
    requests: {
      ...base.requests,
      enabled: form.requestsEnabled,
      maxDuration: durationText(form.maxDuration),
      minJustificationLength: wholeNumber(form.minJustification),
      lapseAfter: durationText(form.lapseAfter),
    },
    autonomousApproval: {
      ...base.autonomousApproval,
      enabled: form.autoEnabled,
      rules: form.rules.map((r) => ({
        id: r.id,
        name: r.name,
        enabled: r.enabled,
        users: r.allUsers ? "all" : splitNames(r.users),
        applications: r.anyApp ? "any" : r.apps.map(rowToRule),
        computers: r.allComputers ? "all" : splitNames(r.computers),
        maxDuration: durationText(r.maxDuration),
      })),
    },
    twoPersonApproval: {
      ...base.twoPersonApproval,
      enabled: form.twoEnabled,
      approvalsRequired: wholeNumber(form.approvalsRequired),
      highRiskApplications: form.highRisk.map(rowToRule),
      longerThan: form.longerThanOn ? durationText(form.longerThan) : null,
    },
  };
}

function rowField(rows: RuleRow[], index: string | undefined, part: string | undefined, fallback: string): string {
  const row = index === undefined ? undefined : rows[Number(index)];
  if (!row) return fallback;
  return part === "versions" ? `rule-${row.key}-versions` : `rule-${row.key}-value`;
}

/** The field id an issue shows beside, by its path; "form" for what has no field. */
export function fieldForSettingsIssue(issue: ParseIssue, form: SettingsFormState): string {
  const [section, field, a, b, c, d] = issue.path.split(".").filter((p) => p !== "");
  if (section === "requests") {
    if (field === "maxDuration") return "requests-maxDuration";
    if (field === "minJustificationLength") return "requests-minJustification";
    if (field === "lapseAfter") return "requests-lapseAfter";
  }
  if (section === "autonomousApproval" && field === "rules" && a !== undefined) {
    const rule = form.rules[Number(a)];
    if (rule) {
      const id = `auto-${rule.key}`;
      if (b === "name") return `${id}-name`;
      if (b === "users") return rule.allUsers ? `${id}-allUsers` : `${id}-users`;
      if (b === "computers") return rule.allComputers ? `${id}-allComputers` : `${id}-computers`;
      if (b === "maxDuration") return `${id}-maxDuration`;
      if (b === "applications") return rowField(rule.apps, c, d, `${id}-apps`);
    }
  }
  if (section === "twoPersonApproval") {
    if (field === "approvalsRequired") return "two-approvalsRequired";
    if (field === "longerThan") return "two-longerThan";
    if (field === "highRiskApplications") return rowField(form.highRisk, a, b, "two-highRisk");
  }
  return "form";
}

function durationMessage(d: DurationValue): string {
  return `Enter a whole number of ${UNIT_LABELS[d.unit]}, from 1 to 999999.`;
}

/** The schema's own words, with the form's words where the schema speaks of its syntax. */
export function settingsMessage(issue: ParseIssue, field: string, form: SettingsFormState): string {
  if (field === "requests-maxDuration") return durationMessage(form.maxDuration);
  if (field === "requests-lapseAfter") return durationMessage(form.lapseAfter);
  if (field === "two-longerThan") return durationMessage(form.longerThan);
  if (field === "requests-minJustification") return "Enter a whole number of characters, from 0 to 1000.";
  if (field === "two-approvalsRequired") return "Enter a whole number of people, from 2 to 10.";
  const auto = /^auto-(\d+)-(\w+)$/.exec(field);
  if (auto) {
    const rule = form.rules.find((r) => String(r.key) === auto[1]);
    if (rule && auto[2] === "maxDuration") return durationMessage(rule.maxDuration);
    if (auto[2] === "users") return "Enter at least one user name, or select All users.";
    if (auto[2] === "computers") return "Enter at least one computer name, or select All computers.";
    if (auto[2] === "apps") return "Add at least one application rule, or choose Any application.";
  }
  return sentence(issue.message);
}

/** The schema speaks in lower case ("give the rule a name"); beside a field it reads as a sentence. */
function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

export function groupSettingsIssues(issues: ParseIssue[], form: SettingsFormState): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const field = fieldForSettingsIssue(issue, form);
    const message = field === "form" && issue.path ? `${issue.path}: ${issue.message}` : settingsMessage(issue, field, form);
    const list = (out[field] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return out;
}
