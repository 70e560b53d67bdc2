// Autonomous Approval and two-person approval, pure: which rule (if any) approves a request at once, and how
// many people must approve one that waits. An error while matching counts as "did not match" (fail closed).
import type { AppRule } from "./app-rule";
import { computerEntryMatches } from "./computer-match";
import { matchAppRule, type AppIdentity } from "./decide";
import { durationMs } from "./duration";
import { normalizeUserName } from "./names";
import type { AutonomousRule, Settings } from "./settings";

export type RequestFacts = {
  user: string;
  computerName: string;
  app: AppIdentity;
  /** The duration asked, e.g. "30m". */
  duration: string;
};

export type RuleVerdict = { ruleId: string; ruleName: string; matched: boolean; detail: string };

export type AutonomousResult = { approvedBy: AutonomousRule | null; verdicts: RuleVerdict[] };

function anyAppMatches(rules: AppRule[], app: AppIdentity): AppRule | null {
  for (const r of rules) {
    try {
      if (matchAppRule(r, app).matched) return r;
    } catch {
      // fail closed: this rule did not match
    }
  }
  return null;
}

export function evaluateAutonomousRule(rule: AutonomousRule, req: RequestFacts): RuleVerdict {
  const base = { ruleId: rule.id, ruleName: rule.name };
  if (!rule.enabled) return { ...base, matched: false, detail: "the rule is off" };
  if (rule.users !== "all") {
    const u = normalizeUserName(req.user);
    if (!u || !rule.users.some((n) => normalizeUserName(n) === u)) return { ...base, matched: false, detail: `${req.user} is not a trusted user of this rule` };
  }
  if (rule.computers !== "all" && !rule.computers.some((c) => computerEntryMatches(c, req.computerName))) {
    return { ...base, matched: false, detail: `computer ${req.computerName} is not covered` };
  }
  if (rule.applications !== "any" && !anyAppMatches(rule.applications, req.app)) {
    return { ...base, matched: false, detail: "the application matches none of the rule's low-risk applications" };
  }
  const asked = durationMs(req.duration);
  const max = durationMs(rule.maxDuration);
  if (asked === null || max === null) return { ...base, matched: false, detail: "the duration cannot be compared" };
  if (asked > max) return { ...base, matched: false, detail: `${req.duration} is longer than the rule's maximum ${rule.maxDuration}` };
  return { ...base, matched: true, detail: "matched" };
}

/** The first enabled rule that matches approves the request; none (or Autonomous Approval off): it waits for a person. */
export function matchAutonomousApproval(settings: Settings["autonomousApproval"], req: RequestFacts): AutonomousResult {
  if (!settings.enabled) return { approvedBy: null, verdicts: [] };
  const verdicts: RuleVerdict[] = [];
  for (const rule of settings.rules) {
    const v = evaluateAutonomousRule(rule, req);
    verdicts.push(v);
    if (v.matched) return { approvedBy: rule, verdicts };
  }
  return { approvedBy: null, verdicts };
}

/** How many different people must approve: N for a high-risk app or a long duration (when two-person approval is on), else 1. */
export function approvalsNeeded(settings: Settings["twoPersonApproval"], req: Pick<RequestFacts, "app" | "duration">): number {
  if (!settings.enabled) return 1;
  if (anyAppMatches(settings.highRiskApplications, req.app)) return settings.approvalsRequired;
  if (settings.longerThan) {
    const asked = durationMs(req.duration);
    const limit = durationMs(settings.longerThan);
    if (asked === null || limit === null || asked > limit) return settings.approvalsRequired;
  }
  return 1;
}
