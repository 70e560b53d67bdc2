// The Create → Application Elevation form: its state, the policy file it becomes, and where each problem shows.
import { APP_RULE_VALUE_FIELD, type AppRuleType } from "../../core/app-rule";
import type { ParseIssue } from "../../core/parse-result";
import type { PolicyFileInput } from "../../core/policy";

export type DurationUnit = "m" | "h" | "d";
export type RuleRow = { key: number; type: AppRuleType; value: string; versions: string };

export type PolicyFormState = {
  name: string;
  description: string;
  computers: string;
  allUsers: boolean;
  users: string;
  durationType: "fixed" | "window";
  fixedAmount: string;
  fixedUnit: DurationUnit;
  windowStart: string;
  windowEnd: string;
  scope: "allAllowed" | "specific";
  rules: RuleRow[];
  deploy: boolean;
};

export const UNIT_LABELS: Record<DurationUnit, string> = { m: "minutes", h: "hours", d: "days" };

export function initialPolicyForm(): PolicyFormState {
  return {
    name: "",
    description: "",
    computers: "",
    allUsers: false,
    users: "",
    durationType: "fixed",
    fixedAmount: "2",
    fixedUnit: "h",
    windowStart: "",
    windowEnd: "",
    scope: "allAllowed",
    rules: [],
    deploy: false,
  };
}

/** Names separated by commas or new lines, trimmed, empty ones dropped. */
export function splitNames(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, "0");

/**
 * A `datetime-local` value ("2026-03-01T09:00" or with seconds), read in the browser's time zone,
 * as ISO 8601 with the browser's offset at that moment ("2026-03-01T09:00:00+01:00"). Empty or unreadable → "".
 */
export function localToIsoWithOffset(local: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(local.trim());
  if (!m) return local.trim();
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (Number.isNaN(d.getTime())) return local.trim();
  const offsetMinutes = -d.getTimezoneOffset();
  const sign = offsetMinutes >= 0 ? "+" : "-";
  const offset = `${sign}${pad(Math.trunc(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${offset}`;
}

/** A Date as a `datetime-local` value with seconds, in the browser's time zone. */
export function dateToLocalInput(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function toPolicyFile(form: PolicyFormState): PolicyFileInput {
  return {
    name: form.name,
    description: form.description,
    computers: splitNames(form.computers),
    users: form.allUsers ? "all" : splitNames(form.users),
    duration:
      form.durationType === "fixed"
        ? { type: "fixed", length: `${form.fixedAmount.trim()}${form.fixedUnit}` }
        : { type: "window", start: localToIsoWithOffset(form.windowStart), end: localToIsoWithOffset(form.windowEnd) },
    applications:
      form.scope === "allAllowed"
        ? "allAllowed"
        : form.rules.map((r) => {
            const rule: Record<string, string> = { type: r.type, [APP_RULE_VALUE_FIELD[r.type]]: r.value };
            if (r.type === "product" && r.versions.trim() !== "") rule.versions = r.versions;
            return rule;
          }),
    deploy: form.deploy,
  };
}

/** The form field an issue belongs to, by its path: a field id of the form, or "form" for the rest. */
export function fieldForIssue(issue: ParseIssue, form: PolicyFormState): string {
  const parts = issue.path.split(".").filter((p) => p !== "");
  const [head, second, third] = parts;
  switch (head) {
    case "name":
    case "description":
    case "computers":
    case "deploy":
      return head;
    case "users":
      return form.allUsers ? "allUsers" : "users";
    case "duration":
      if (form.durationType === "fixed") return "fixedAmount";
      return second === "end" ? "windowEnd" : "windowStart";
    case "applications": {
      if (second === undefined || form.scope === "allAllowed" || form.rules.length === 0) return "applications";
      const row = form.rules[Number(second)];
      if (!row) return "applications";
      return third === "versions" ? `rule-${row.key}-versions` : `rule-${row.key}-value`;
    }
    default:
      return "form";
  }
}

/**
 * The parser's own message (the same words jit-ctl prints for a policy file), with the form's words added
 * where the message speaks of the file's syntax ("<n>h", "allAllowed") rather than of the form.
 */
export function formMessage(issue: ParseIssue, field: string, form: PolicyFormState): string {
  if (field === "fixedAmount") return `Enter a whole number of ${UNIT_LABELS[form.fixedUnit]}, from 1 to 999999 (${issue.message}).`;
  if (field === "windowStart" && form.windowStart.trim() === "") return "Enter when the window starts.";
  if (field === "windowEnd" && form.windowEnd.trim() === "") return "Enter when the window ends.";
  if (field === "users" && issue.path === "users") return "Enter at least one user name, or select All users.";
  if (field === "applications") return "Add at least one rule, or choose All Allowed Application(s).";
  return issue.message;
}

export function groupIssues(issues: ParseIssue[], form: PolicyFormState): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of issues) {
    const field = fieldForIssue(issue, form);
    const message = formMessage(issue, field, form);
    const list = (out[field] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return out;
}

/** A stored policy as form state, for editing. A Window shows in the browser's time zone. */
export function policyToForm(p: Pick<PolicyFileInput, "name" | "description" | "computers" | "users" | "duration" | "applications">, deploy = false): PolicyFormState {
  const fixed = p.duration.type === "fixed" ? /^(\d+)(m|h|d)$/.exec(p.duration.length) : null;
  const rules: RuleRow[] =
    p.applications === "allAllowed" || !Array.isArray(p.applications)
      ? []
      : p.applications.map((r, i) => {
          const rule = r as Record<string, string> & { type: AppRuleType };
          return { key: i + 1, type: rule.type, value: rule[APP_RULE_VALUE_FIELD[rule.type]] ?? "", versions: rule.type === "product" ? (rule.versions ?? "") : "" };
        });
  return {
    name: p.name as string,
    description: (p.description as string | undefined) ?? "",
    computers: (p.computers as string[]).join("\n"),
    allUsers: p.users === "all",
    users: p.users === "all" ? "" : (p.users as string[]).join("\n"),
    durationType: p.duration.type,
    fixedAmount: fixed ? fixed[1]! : "2",
    fixedUnit: fixed ? (fixed[2] as DurationUnit) : "h",
    windowStart: p.duration.type === "window" ? dateToLocalInput(new Date(p.duration.start)) : "",
    windowEnd: p.duration.type === "window" ? dateToLocalInput(new Date(p.duration.end)) : "",
    scope: p.applications === "allAllowed" ? "allAllowed" : "specific",
    rules,
    deploy,
  };
}
