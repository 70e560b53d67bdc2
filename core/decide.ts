// decide(): may this user run this application elevated now? One pure function, used by the agent for real
// decisions and by the console to explain them. Fails closed: an error in a rule counts as "did not match".
//
// Rules are found through an index built once per bundle (kept in a WeakMap), so a decision costs a few map
// look-ups however many rules the bundle holds; matchAppRule() is the same rule, spelt out, for the trace.
// A bundle is treated as immutable once decided on (a changed bundle is a new object, as every parsed one is).
import type { AppRule } from "./app-rule";
import { describeAppRule } from "./app-rule";
import type { Bundle, BundleGrant, BundlePolicy } from "./bundle";
import { versionInRange } from "./debian-version";
import { normalizeUserName } from "./names";
import { ancestorKeys, baseName, isWindowsPath, pathKey, resolvedPathKey } from "./paths";

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

/**
 * How much of the "why" to compute: "policies" (the default) gives one line per policy and grant; "rules" adds
 * every rule's own verdict (check --explain, Test access); "none" only decides (the hot path, the benchmark).
 */
export type DecideOptions = { trace?: "none" | "policies" | "rules" };

export type DecisionSource = { type: "policy" | "grant"; id: string; name: string };

export type RuleTrace = { rule: string; matched: boolean; detail: string };

export type PolicyEvaluation = {
  policyId: string;
  policyName: string;
  outcome: "matched" | "not_yet_active" | "ended" | "user_not_covered" | "app_not_covered";
  detail: string;
  /** With trace "rules": each rule of the policy (or of the allowlist, for All Allowed Application(s)). */
  rules?: RuleTrace[];
};

export type GrantEvaluation = {
  grantId: string;
  requestId: string;
  outcome: PolicyEvaluation["outcome"];
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
  /** The same for each approved request (grant) in the bundle. */
  evaluatedGrants: GrantEvaluation[];
};

export type RuleMatch = { matched: boolean; detail: string };

const CLSID_STRIP = /[{}]/g;
const normalizeClsid = (c: string) => c.trim().replace(CLSID_STRIP, "").toLowerCase();
const hasSeparator = (p: string) => p.includes("/") || p.includes("\\");

/** The index keys a rule is found under. A rule with no key (an unreadable path) can match nothing. */
export function ruleKeys(rule: AppRule): string[] {
  switch (rule.type) {
    case "fileHash":
      return [`h:${rule.sha256.toLowerCase()}`];
    case "vendor":
      return [`v:${rule.vendor.trim().toLowerCase()}`];
    case "product":
      return [`pr:${rule.product.trim().toLowerCase()}`];
    case "clsid":
      return [`c:${normalizeClsid(rule.clsid)}`];
    case "verifiedExecutable": {
      if (hasSeparator(rule.path)) {
        const k = pathKey(rule.path);
        return k === null ? [] : [`p:${k}`];
      }
      return [`n:${rule.path}`, `nl:${rule.path.toLowerCase()}`];
    }
    case "folderPath": {
      const k = pathKey(rule.path);
      return k === null ? [] : [`f:${k}`];
    }
  }
}

/** The index keys an application is looked up by. */
export function appKeys(app: AppIdentity): string[] {
  const keys: string[] = [];
  if (app.sha256) keys.push(`h:${app.sha256.toLowerCase()}`);
  if (app.vendor) keys.push(`v:${app.vendor.trim().toLowerCase()}`);
  if (app.packageName) keys.push(`pr:${app.packageName.trim().toLowerCase()}`);
  if (app.clsid) keys.push(`c:${normalizeClsid(app.clsid)}`);
  const key = typeof app.path === "string" ? resolvedPathKey(app.path) : null;
  if (key !== null) {
    keys.push(`p:${key}`);
    const base = baseName(app.path);
    if (base) keys.push(isWindowsPath(app.path) ? `nl:${base.toLowerCase()}` : `n:${base}`);
    for (const folder of ancestorKeys(key)) keys.push(`f:${folder}`);
  }
  return keys;
}

/** What must hold beyond the key: a verified file, a version in range. */
function postCondition(rule: AppRule, app: AppIdentity): RuleMatch {
  if (rule.type === "verifiedExecutable") {
    return app.verified === true ? { matched: true, detail: `verified executable ${rule.path}` } : { matched: false, detail: `${rule.path}, but the executable is not verified` };
  }
  if (rule.type === "product" && rule.versions && rule.versions.trim() !== "") {
    if (!app.packageVersion) return { matched: false, detail: `product ${rule.product}, but its version is unknown` };
    return versionInRange(app.packageVersion, rule.versions);
  }
  return { matched: true, detail: describeAppRule(rule) };
}

function missReason(rule: AppRule, app: AppIdentity): string {
  switch (rule.type) {
    case "fileHash":
      return app.sha256 ? "SHA-256 differs" : "the file's SHA-256 is unknown";
    case "vendor":
      return app.vendor ? `vendor is ${app.vendor}` : "the vendor is unknown";
    case "product":
      return app.packageName ? `product is ${app.packageName}` : "the product is unknown (no package owns the file)";
    case "clsid":
      return app.clsid ? "CLSID differs" : "no CLSID given";
    case "verifiedExecutable":
      return resolvedPathKey(app.path) === null ? "the path is not a resolved absolute path" : `not ${rule.path}`;
    case "folderPath":
      if (pathKey(rule.path) === null) return `${rule.path} is not an absolute folder`;
      return resolvedPathKey(app.path) === null ? "the path is not a resolved absolute path" : `not inside ${rule.path}`;
  }
}

/** Does one rule recognise this app? Throws nothing: a failure to evaluate is a non-match with the reason. */
export function matchAppRule(rule: AppRule, app: AppIdentity): RuleMatch {
  try {
    const keys = new Set(appKeys(app));
    if (!ruleKeys(rule).some((k) => keys.has(k))) return { matched: false, detail: missReason(rule, app) };
    const post = postCondition(rule, app);
    if (post.matched && rule.type === "folderPath") return { matched: true, detail: `inside ${rule.path}` };
    return post;
  } catch (e) {
    return { matched: false, detail: `rule could not be evaluated: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export function userCovered(users: BundlePolicy["users"], user: string): boolean {
  if (users === "all") return true;
  const u = normalizeUserName(user);
  return u.length > 0 && users.some((n) => normalizeUserName(n) === u);
}

// ---- the per-bundle index -------------------------------------------------------------------------------

/** Who a rule belongs to: a policy (by index), the allowlist, or a grant (by index). */
type Owner = { kind: "policy" | "grant"; index: number } | { kind: "allowlist" };
type RuleRef = { owner: Owner; rule: AppRule };
type CompiledPolicy = { policy: BundlePolicy; start: number; end: number; users: Set<string> | "all"; allAllowed: boolean };
type CompiledGrant = { grant: BundleGrant; start: number; end: number; user: string };
type CompiledBundle = { byKey: Map<string, RuleRef[]>; policies: CompiledPolicy[]; grants: CompiledGrant[]; allAllowedPolicies: number[] };

const compiledBundles = new WeakMap<Bundle, CompiledBundle>();

function compile(bundle: Bundle): CompiledBundle {
  const cached = compiledBundles.get(bundle);
  if (cached) return cached;
  const byKey = new Map<string, RuleRef[]>();
  const add = (owner: Owner, rule: AppRule) => {
    let keys: string[];
    try {
      keys = ruleKeys(rule);
    } catch {
      return; // a rule that cannot be read matches nothing
    }
    for (const k of keys) {
      const list = byKey.get(k);
      if (list) list.push({ owner, rule });
      else byKey.set(k, [{ owner, rule }]);
    }
  };
  const policies: CompiledPolicy[] = bundle.policies.map((policy, index) => {
    if (policy.applications !== "allAllowed") for (const r of policy.applications) add({ kind: "policy", index }, r);
    return {
      policy,
      start: Date.parse(policy.startsAt),
      end: Date.parse(policy.endsAt),
      users: policy.users === "all" ? "all" : new Set(policy.users.map(normalizeUserName).filter((u) => u.length > 0)),
      allAllowed: policy.applications === "allAllowed",
    };
  });
  for (const r of bundle.allowlist) add({ kind: "allowlist" }, r);
  const grants = bundle.grants.map((grant, index) => {
    for (const r of grant.applications) add({ kind: "grant", index }, r);
    return { grant, start: Date.parse(grant.startsAt), end: Date.parse(grant.endsAt), user: normalizeUserName(grant.user) };
  });
  const compiled = { byKey, policies, grants, allAllowedPolicies: policies.flatMap((p, i) => (p.allAllowed ? [i] : [])) };
  compiledBundles.set(bundle, compiled);
  return compiled;
}

type Hits = { policies: Map<number, AppRule>; grants: Map<number, AppRule>; allowlist: AppRule | null };

/** Every rule of the bundle that recognises the app, first one per owner (in rule order). */
function findHits(compiled: CompiledBundle, app: AppIdentity): Hits {
  const hits: Hits = { policies: new Map(), grants: new Map(), allowlist: null };
  const candidates: RuleRef[] = [];
  for (const k of appKeys(app)) {
    const refs = compiled.byKey.get(k);
    if (refs) for (const ref of refs) candidates.push(ref);
  }
  for (const ref of candidates) {
    let ok = false;
    try {
      ok = postCondition(ref.rule, app).matched;
    } catch {
      ok = false;
    }
    if (!ok) continue;
    const o = ref.owner;
    if (o.kind === "allowlist") {
      if (!hits.allowlist) hits.allowlist = ref.rule;
    } else {
      const m = o.kind === "policy" ? hits.policies : hits.grants;
      if (!m.has(o.index)) m.set(o.index, ref.rule);
    }
  }
  return hits;
}

function timeOutcome(start: number, end: number, at: number, startsAt: string, endsAt: string): { outcome: "not_yet_active" | "ended"; detail: string } | null {
  if (!(at >= start)) return { outcome: "not_yet_active", detail: `starts at ${startsAt}` };
  if (!(at < end)) return { outcome: "ended", detail: `ended at ${endsAt}` };
  return null;
}

function rulesTrace(rules: AppRule[], app: AppIdentity): RuleTrace[] {
  return rules.map((rule) => ({ rule: describeAppRule(rule), ...matchAppRule(rule, app) }));
}

function evaluatePolicy(cp: CompiledPolicy, index: number, bundle: Bundle, hits: Hits, input: DecideInput, userKey: string, rules: boolean): PolicyEvaluation {
  const policy = cp.policy;
  const ev = (outcome: PolicyEvaluation["outcome"], detail: string): PolicyEvaluation => {
    const e: PolicyEvaluation = { policyId: policy.id, policyName: policy.name, outcome, detail };
    if (rules && (outcome === "matched" || outcome === "app_not_covered")) e.rules = rulesTrace(cp.allAllowed ? bundle.allowlist : (policy.applications as AppRule[]), input.app);
    return e;
  };
  const at = input.at.getTime();
  if (!(at >= cp.start)) return ev("not_yet_active", `starts at ${policy.startsAt}`);
  if (!(at < cp.end)) return ev("ended", `ended at ${policy.endsAt}`);
  if (cp.users !== "all" && !(userKey.length > 0 && cp.users.has(userKey))) return ev("user_not_covered", `not for user ${input.user}`);
  if (cp.allAllowed) {
    return hits.allowlist
      ? ev("matched", `allowlisted: ${describeAppRule(hits.allowlist)}`)
      : ev("app_not_covered", bundle.allowlist.length === 0 ? "the allowlist is empty" : "the application is not on the allowlist");
  }
  const hit = hits.policies.get(index);
  return hit ? ev("matched", describeAppRule(hit)) : ev("app_not_covered", "no rule of the policy matches the application");
}

function evaluateGrant(cg: CompiledGrant, index: number, hits: Hits, input: DecideInput, userKey: string): GrantEvaluation {
  const base = { grantId: cg.grant.id, requestId: cg.grant.requestId };
  const t = timeOutcome(cg.start, cg.end, input.at.getTime(), cg.grant.startsAt, cg.grant.endsAt);
  if (t) return { ...base, ...t };
  if (cg.user !== userKey) return { ...base, outcome: "user_not_covered", detail: `granted to ${cg.grant.user}, not ${input.user}` };
  const hit = hits.grants.get(index);
  return hit ? { ...base, outcome: "matched", detail: describeAppRule(hit) } : { ...base, outcome: "app_not_covered", detail: "the approved request was for another application" };
}

export function decide(bundle: Bundle | null, input: DecideInput, options: DecideOptions = {}): Decision {
  const level = options.trace ?? "policies";
  const denied = (reason: string, evaluated: PolicyEvaluation[] = [], evaluatedGrants: GrantEvaluation[] = []): Decision => ({
    allowed: false,
    reason,
    source: null,
    expiresAt: null,
    canRequest: Boolean(bundle?.requests?.enabled) && input.at.getTime() < Date.parse(bundle?.validUntil ?? ""),
    evaluated,
    evaluatedGrants,
  });
  if (!bundle) return denied("no policy bundle yet: the agent has not synced with the server");
  const at = input.at.getTime();
  if (!(at < Date.parse(bundle.validUntil))) {
    return denied(`the policy bundle is stale (valid until ${bundle.validUntil}) and the agent could not refresh it; nothing is allowed until it does`);
  }
  if (!input.user.trim()) return denied("no user given");

  const compiled = compile(bundle);
  const hits = findHits(compiled, input.app);
  const userKey = normalizeUserName(input.user);

  // The policy that lasts longest wins; on a tie, the first in the bundle.
  let best: { cp: CompiledPolicy; index: number } | null = null;
  const consider = (i: number) => {
    const cp = compiled.policies[i]!;
    if (!(at >= cp.start && at < cp.end)) return;
    if (cp.users !== "all" && !(userKey.length > 0 && cp.users.has(userKey))) return;
    if (cp.allAllowed ? !hits.allowlist : !hits.policies.has(i)) return;
    if (!best || cp.end > best.cp.end || (cp.end === best.cp.end && i < best.index)) best = { cp, index: i };
  };
  for (const i of hits.policies.keys()) consider(i);
  if (hits.allowlist) for (const i of compiled.allAllowedPolicies) consider(i);

  let grant: CompiledGrant | null = null;
  for (const [i] of hits.grants) {
    const cg = compiled.grants[i]!;
    if (!(at >= cg.start && at < cg.end) || cg.user !== userKey) continue;
    if (!grant || cg.end > grant.end) grant = cg;
  }

  const evaluated = level === "none" ? [] : compiled.policies.map((cp, i) => evaluatePolicy(cp, i, bundle, hits, input, userKey, level === "rules"));
  const evaluatedGrants = level === "none" ? [] : compiled.grants.map((cg, i) => evaluateGrant(cg, i, hits, input, userKey));
  const chosenBest = best as { cp: CompiledPolicy; index: number } | null;
  const chosen = chosenBest?.cp ?? null;
  const chosenGrant = grant as CompiledGrant | null;

  if (chosenGrant && (!chosen || chosenGrant.end > chosen.end)) {
    return {
      allowed: true,
      reason: `allowed by approved request ${chosenGrant.grant.requestId}`,
      source: { type: "grant", id: chosenGrant.grant.id, name: `request ${chosenGrant.grant.requestId}` },
      expiresAt: chosenGrant.grant.endsAt,
      canRequest: false,
      evaluated,
      evaluatedGrants,
    };
  }
  if (chosen) {
    const p = chosen.policy;
    const rule = chosen.allAllowed ? `allowlisted: ${describeAppRule(hits.allowlist!)}` : describeAppRule(hits.policies.get(chosenBest!.index)!);
    return {
      allowed: true,
      reason: `allowed by policy "${p.name}" (${rule})`,
      source: { type: "policy", id: p.id, name: p.name },
      expiresAt: p.endsAt,
      canRequest: false,
      evaluated,
      evaluatedGrants,
    };
  }
  if (bundle.policies.length === 0 && bundle.grants.length === 0) return denied("no policy on this computer allows elevation", evaluated, evaluatedGrants);
  return denied(`no policy allows ${input.user} to elevate ${input.app.path}`, evaluated, evaluatedGrants);
}

/** The same decision by brute force over every rule, with no index: the reference the property tests hold decide() to. */
export function decideByScan(bundle: Bundle, input: DecideInput): { allowed: boolean; sourceId: string | null; expiresAt: string | null } {
  const at = input.at.getTime();
  if (!(at < Date.parse(bundle.validUntil)) || !input.user.trim()) return { allowed: false, sourceId: null, expiresAt: null };
  const matches = (rules: AppRule[]) => rules.some((r) => matchAppRule(r, input.app).matched);
  let best: { id: string; end: number; endsAt: string } | null = null;
  for (const p of bundle.policies) {
    if (!(at >= Date.parse(p.startsAt) && at < Date.parse(p.endsAt))) continue;
    if (!userCovered(p.users, input.user)) continue;
    if (!matches(p.applications === "allAllowed" ? bundle.allowlist : p.applications)) continue;
    const end = Date.parse(p.endsAt);
    if (!best || end > best.end) best = { id: p.id, end, endsAt: p.endsAt };
  }
  for (const g of bundle.grants) {
    if (!(at >= Date.parse(g.startsAt) && at < Date.parse(g.endsAt))) continue;
    if (normalizeUserName(g.user) !== normalizeUserName(input.user) || !matches(g.applications)) continue;
    const end = Date.parse(g.endsAt);
    if (!best || end > best.end) best = { id: g.id, end, endsAt: g.endsAt };
  }
  return best ? { allowed: true, sourceId: best.id, expiresAt: best.endsAt } : { allowed: false, sourceId: null, expiresAt: null };
}
