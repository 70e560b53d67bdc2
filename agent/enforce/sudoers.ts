// The sudo back end's renderer: bundle + what the agent found on disk + now → the text of one sudoers drop-in that
// lets each end user run, as root, exactly the executables they may elevate now. Pure: no I/O, no clock.
// Anything that could carry sudoers syntax (a user name, a path) is checked against a strict safe alphabet and
// left out (and reported) when it does not fit: nothing from the bundle is ever written into the file unchecked.
import type { AppRule } from "../../core/app-rule";
import type { Bundle } from "../../core/bundle";
import { matchAppRule, type AppIdentity } from "../../core/decide";
import { normalizeUserName } from "../../core/names";
import { isWindowsPath, normalizeAbsolutePath } from "../../core/paths";

/** An executable the agent found and identified (its real path and SHA-256 are known). */
export type Executable = AppIdentity & { sha256: string };

export type SudoFacts = { executables: Executable[] };

export type RenderRefusal = { what: string; reason: string };

export type SudoRender = {
  text: string;
  /** Per sudoers user ("ALL" for policies for all users): the command entries, sorted. */
  entries: Map<string, string[]>;
  /** What was left out because it could not be written safely. */
  refused: RenderRefusal[];
};

/** Linux account names as useradd accepts them by default, and nothing sudoers could read as syntax. */
const SAFE_USER = /^[a-z_][a-z0-9_.-]{0,31}$/;
/** Path characters that mean nothing to sudoers (no spaces, commas, colons, equals, backslashes, globs, quotes). */
const SAFE_PATH = /^(\/[A-Za-z0-9._+-]+)+$/;
const SHA256 = /^[0-9a-f]{64}$/;
const RESERVED_USERS = new Set(["all"]);

export function safeSudoUser(name: string): string | null {
  const n = normalizeUserName(name);
  // DOMAIN\user and user@domain are not local accounts sudo knows: no right for them.
  if (n !== name.trim().toLowerCase()) return null;
  if (!SAFE_USER.test(n) || RESERVED_USERS.has(n) || n.endsWith(".")) return null;
  return n;
}

export function safeSudoPath(path: string): string | null {
  if (!SAFE_PATH.test(path)) return null;
  if (path.split("/").some((s) => s === "." || s === "..")) return null;
  return path;
}

/** The drop-in's fixed first lines. Only numbers and a timestamp come from outside, and both are checked. */
function header(bundle: Bundle | null, now: Date): string[] {
  const version = bundle && Number.isSafeInteger(bundle.version) ? String(bundle.version) : "none";
  return [
    "# Managed by jit-agent (JIT Access): do not edit; it is rewritten whenever the rights change.",
    `# Bundle version ${version}, rendered at ${now.toISOString()}.`,
  ];
}

function activeAt(startsAt: string, endsAt: string, at: number): boolean {
  return Date.parse(startsAt) <= at && at < Date.parse(endsAt);
}

/** The entries for one set of rules: pinned executables, and the directory form for folder rules. */
function entriesFor(rules: AppRule[], facts: SudoFacts, refused: RenderRefusal[]): string[] {
  const out: string[] = [];
  const dirs: string[] = [];
  for (const r of rules) {
    if (r.type !== "folderPath" || isWindowsPath(r.path)) continue;
    const norm = normalizeAbsolutePath(r.path);
    if (norm === null) continue;
    const safe = safeSudoPath(norm);
    if (safe === null) {
      if (norm !== "/") refused.push({ what: `folder ${JSON.stringify(r.path)}`, reason: "its path holds characters sudoers could read as syntax" });
      else refused.push({ what: "folder /", reason: "the whole file system is never granted as a directory" });
      continue;
    }
    dirs.push(safe);
    out.push(`${safe}/`);
  }
  // A folder rule for the whole disk is never expanded (it is refused above).
  const usable = rules.filter((r) => r.type !== "clsid" && !(r.type === "folderPath" && normalizeAbsolutePath(r.path) === "/"));
  for (const x of facts.executables) {
    if (!usable.some((r) => matchAppRule(r, x).matched)) continue;
    const path = safeSudoPath(x.path);
    if (path === null || !SHA256.test(x.sha256)) {
      refused.push({ what: `executable ${JSON.stringify(x.path)}`, reason: "its path holds characters sudoers could read as syntax" });
      continue;
    }
    // Files directly in a granted folder are covered by the directory form.
    const parent = path.slice(0, path.lastIndexOf("/")) || "/";
    if (dirs.includes(parent)) continue;
    out.push(`sha256:${x.sha256} ${path}`);
  }
  return out;
}

/** Renders the drop-in for `now`. A missing or stale bundle renders no rights at all (fail closed). */
export function renderSudoers(bundle: Bundle | null, facts: SudoFacts, now: Date): SudoRender {
  const refused: RenderRefusal[] = [];
  const entries = new Map<string, Set<string>>();
  const managed = new Set<string>();
  const at = now.getTime();
  const userKey = (name: string): string | null => {
    const u = safeSudoUser(name);
    if (u === null) refused.push({ what: `user ${JSON.stringify(name)}`, reason: "not a plain account name; no rights written for it" });
    return u;
  };
  const add = (users: string[], list: string[]) => {
    if (list.length === 0) return;
    for (const u of users) {
      let s = entries.get(u);
      if (!s) entries.set(u, (s = new Set()));
      for (const e of list) s.add(e);
    }
  };

  if (bundle && at < Date.parse(bundle.validUntil)) {
    for (const p of bundle.policies) {
      const users = p.users === "all" ? ["ALL"] : p.users.map(userKey).filter((u): u is string => u !== null);
      for (const u of users) if (u !== "ALL") managed.add(u);
      if (!activeAt(p.startsAt, p.endsAt, at) || users.length === 0) continue;
      add(users, entriesFor(p.applications === "allAllowed" ? bundle.allowlist : p.applications, facts, refused));
    }
    for (const g of bundle.grants) {
      const u = userKey(g.user);
      if (u === null) continue;
      managed.add(u);
      if (!activeAt(g.startsAt, g.endsAt, at)) continue;
      add([u], entriesFor(g.applications, facts, refused));
    }
  }

  const lines = header(bundle, now);
  for (const u of [...managed].sort()) lines.push(`Defaults:${u} timestamp_timeout=0`);
  const sorted = new Map<string, string[]>();
  for (const u of [...entries.keys()].sort()) {
    const list = [...entries.get(u)!].sort();
    sorted.set(u, list);
    lines.push(`${u} ALL=(root) NOPASSWD: ${list.join(", ")}`);
  }
  const seen = new Set<string>();
  const uniqueRefused = refused.filter((r) => (seen.has(r.what) ? false : (seen.add(r.what), true)));
  return { text: lines.join("\n") + "\n", entries: sorted, refused: uniqueRefused };
}

/** The next instant the rights change by time alone (a policy or grant starts or ends, the bundle goes stale). */
export function nextChangeAt(bundle: Bundle | null, now: Date): Date | null {
  if (!bundle) return null;
  const at = now.getTime();
  let next = Infinity;
  const consider = (iso: string) => {
    const t = Date.parse(iso);
    if (t > at && t < next) next = t;
  };
  consider(bundle.validUntil);
  for (const p of bundle.policies) {
    consider(p.startsAt);
    consider(p.endsAt);
  }
  for (const g of bundle.grants) {
    consider(g.startsAt);
    consider(g.endsAt);
  }
  return Number.isFinite(next) ? new Date(next) : null;
}

/** Every rule the bundle holds, with what kind of search of the disk it needs. */
export function bundleRules(bundle: Bundle | null): AppRule[] {
  if (!bundle) return [];
  const rules: AppRule[] = [...bundle.allowlist];
  for (const p of bundle.policies) if (p.applications !== "allAllowed") rules.push(...p.applications);
  for (const g of bundle.grants) rules.push(...g.applications);
  return rules;
}
