// decide(): may this user run this application elevated now? One pure function, used by the agent for real
// decisions and by the console to explain them. Fails closed: an error in a rule counts as "did not match".
import type { AppRule } from "./app-rule";
import { describeAppRule } from "./app-rule";
import type { Bundle, BundlePolicy } from "./bundle";
import { normalizeUserName } from "./names";
import { isUnderFolder, normalizeAbsolutePath } from "./paths";

/** What the agent's probe learned about an executable. Unknown facts are absent, never guessed. */
export type AppIdentity = {
  /** The resolved real path (symlinks followed). */
  path: string;
  sha256?: string | null;
  /** Debian package that owns the file, its version and vendor, and whether the file is the package's own. */
  packageName?: string | null;
  packageVersion?: string | null;
  vendor?: string | null;
  verified?: boolean | null;
  clsid?: string | null;
};

export type DecideInput = { user: string; app: AppIdentity; at: Date };

export type DecisionSource = { type: "policy" | "grant"; id: string; name: string };

export type PolicyEvaluation = {
  policyId: string;
  policyName: string;
  outcome: "matched" | "not_yet_active" | "ended" | "user_not_covered" | "app_not_covered";
  detail: string;
};

export type Decision = {
  allowed: boolean;
  reason: string;
  source: DecisionSource | null;
  expiresAt: string | null;
  /** Denied, and the user may ask for elevation with `jit-agent request` (the bundle says requests are on). */
  canRequest: boolean;
  /** Why each policy did or did not apply: the explanation the console and `check --explain` show. */
  evaluated: PolicyEvaluation[];
};

export type RuleMatch = { matched: boolean; detail: string };

const CLSID_STRIP = /[{}]/g;

/** Does one rule recognise this app? Throws nothing: a failure to evaluate is a non-match with the reason. */
export function matchAppRule(rule: AppRule, app: AppIdentity): RuleMatch {
  try {
    switch (rule.type) {
      case "fileHash": {
        if (!app.sha256) return { matched: false, detail: "the file's SHA-256 is unknown" };
        const ok = app.sha256.toLowerCase() === rule.sha256.toLowerCase();
        return { matched: ok, detail: ok ? "SHA-256 matches" : "SHA-256 differs" };
      }
      case "folderPath": {
        const p = normalizeAbsolutePath(app.path);
        if (p === null || p !== app.path.replace(/\/+$/, "")) return { matched: false, detail: "the path is not a resolved absolute path" };
        const ok = isUnderFolder(p, rule.path);
        return { matched: ok, detail: ok ? `inside ${rule.path}` : `not inside ${rule.path}` };
      }
      case "verifiedExecutable": {
        const wanted = rule.path.includes("/") ? normalizeAbsolutePath(rule.path) : rule.path;
        const base = app.path.slice(app.path.lastIndexOf("/") + 1);
        const sameFile = rule.path.includes("/") ? normalizeAbsolutePath(app.path) === wanted : base === wanted;
        if (!sameFile) return { matched: false, detail: `not ${rule.path}` };
        return app.verified === true ? { matched: true, detail: "verified executable" } : { matched: false, detail: "the executable is not verified" };
      }
      case "vendor": {
        if (!app.vendor) return { matched: false, detail: "the vendor is unknown" };
        const ok = app.vendor.trim().toLowerCase() === rule.vendor.trim().toLowerCase();
        return { matched: ok, detail: ok ? `vendor ${rule.vendor}` : `vendor is ${app.vendor}` };
      }
      case "product": {
        if (!app.packageName) return { matched: false, detail: "the product is unknown" };
        if (app.packageName.toLowerCase() !== rule.product.toLowerCase()) return { matched: false, detail: `product is ${app.packageName}` };
        // Version ranges are matched by the agent's package probe (a later issue); until then a range fails closed.
        if (rule.versions) return { matched: false, detail: `version range ${rule.versions} cannot be evaluated here` };
        return { matched: true, detail: `product ${rule.product}` };
      }
      case "clsid": {
        if (!app.clsid) return { matched: false, detail: "no CLSID given" };
        const ok = app.clsid.replace(CLSID_STRIP, "").toLowerCase() === rule.clsid.replace(CLSID_STRIP, "").toLowerCase();
        return { matched: ok, detail: ok ? "CLSID matches" : "CLSID differs" };
      }
    }
  } catch (e) {
    return { matched: false, detail: `rule could not be evaluated: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function firstMatch(rules: AppRule[], app: AppIdentity): { rule: AppRule; match: RuleMatch } | null {
  for (const rule of rules) {
    const match = matchAppRule(rule, app);
    if (match.matched) return { rule, match };
  }
  return null;
}

export function userCovered(users: BundlePolicy["users"], user: string): boolean {
  if (users === "all") return true;
  const u = normalizeUserName(user);
  return u.length > 0 && users.some((n) => normalizeUserName(n) === u);
}

function evaluatePolicy(policy: BundlePolicy, bundle: Bundle, input: DecideInput): PolicyEvaluation {
  const base = { policyId: policy.id, policyName: policy.name };
  const at = input.at.getTime();
  const start = Date.parse(policy.startsAt);
  const end = Date.parse(policy.endsAt);
  if (!(at >= start)) return { ...base, outcome: "not_yet_active", detail: `starts at ${policy.startsAt}` };
  if (!(at < end)) return { ...base, outcome: "ended", detail: `ended at ${policy.endsAt}` };
  if (!userCovered(policy.users, input.user)) return { ...base, outcome: "user_not_covered", detail: `not for user ${input.user}` };
  if (policy.applications === "allAllowed") {
    const hit = firstMatch(bundle.allowlist, input.app);
    return hit
      ? { ...base, outcome: "matched", detail: `allowlisted: ${describeAppRule(hit.rule)}` }
      : { ...base, outcome: "app_not_covered", detail: "the application is not on the allowlist" };
  }
  const hit = firstMatch(policy.applications, input.app);
  return hit
    ? { ...base, outcome: "matched", detail: describeAppRule(hit.rule) }
    : { ...base, outcome: "app_not_covered", detail: "no rule of the policy matches the application" };
}

export function decide(bundle: Bundle | null, input: DecideInput): Decision {
  const denied = (reason: string, evaluated: PolicyEvaluation[] = []): Decision => ({
    allowed: false,
    reason,
    source: null,
    expiresAt: null,
    canRequest: Boolean(bundle?.requests?.enabled) && input.at.getTime() < Date.parse(bundle?.validUntil ?? ""),
    evaluated,
  });
  if (!bundle) return denied("no policy bundle yet: the agent has not synced with the server");
  if (input.at.getTime() >= Date.parse(bundle.validUntil)) {
    return denied(`the policy bundle is stale (valid until ${bundle.validUntil}) and the agent could not refresh it; nothing is allowed until it does`);
  }
  if (!input.user.trim()) return denied("no user given");

  const evaluated = bundle.policies.map((p) => evaluatePolicy(p, bundle, input));
  let best: { ev: PolicyEvaluation; policy: BundlePolicy } | null = null;
  bundle.policies.forEach((policy, i) => {
    const ev = evaluated[i]!;
    if (ev.outcome === "matched" && (!best || Date.parse(policy.endsAt) > Date.parse(best.policy.endsAt))) best = { ev, policy };
  });

  let grant: Bundle["grants"][number] | null = null;
  for (const g of bundle.grants) {
    const at = input.at.getTime();
    if (at < Date.parse(g.startsAt) || at >= Date.parse(g.endsAt)) continue;
    if (normalizeUserName(g.user) !== normalizeUserName(input.user)) continue;
    if (!firstMatch(g.applications, input.app)) continue;
    if (!grant || Date.parse(g.endsAt) > Date.parse(grant.endsAt)) grant = g;
  }

  const chosen = best as { ev: PolicyEvaluation; policy: BundlePolicy } | null;
  if (grant && (!chosen || Date.parse(grant.endsAt) > Date.parse(chosen.policy.endsAt))) {
    return {
      allowed: true,
      reason: `allowed by approved request ${grant.requestId}`,
      source: { type: "grant", id: grant.id, name: `request ${grant.requestId}` },
      expiresAt: grant.endsAt,
      canRequest: false,
      evaluated,
    };
  }
  if (chosen) {
    return {
      allowed: true,
      reason: `allowed by policy "${chosen.policy.name}" (${chosen.ev.detail})`,
      source: { type: "policy", id: chosen.policy.id, name: chosen.policy.name },
      expiresAt: chosen.policy.endsAt,
      canRequest: false,
      evaluated,
    };
  }
  if (bundle.policies.length === 0) return denied("no policy on this computer allows elevation", evaluated);
  return denied(`no policy allows ${input.user} to elevate ${input.app.path}`, evaluated);
}
