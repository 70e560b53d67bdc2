// `jit-agent check`: may this user run this file elevated now? Probes the file for real and decides from the
// cached bundle only, so it works offline and never waits on the server.
import { join } from "node:path";
import type { Bundle } from "../../core/bundle";
import { decide, type AppIdentity, type Decision } from "../../core/decide";
import { CliError, COMMON_OPTIONS, out, parseClsidOption, parseCommandArgs, required, UsageError } from "../args";
import { probeIdentity, ProbeCache } from "../probe/identity";
import { StateFileError, type StateStore } from "../state";
import { loadCachedBundle } from "../trusted-bundle";
import { recordCheck } from "../events-queue";
import { loadRequestHint, type RequestHint } from "./request";
import { storeFor, type Command } from "./shared";

const usage = `Usage: jit-agent check --user USER --path PATH [--clsid CLSID] [--json] [--explain] [--state-dir DIR]

Decides, from the cached policy bundle and without contacting the server, whether USER
may run the executable at PATH elevated now. The file is probed: its real path
(symbolic links and ".." resolved), its SHA-256, the Debian package that owns it
(dpkg-query), its version and vendor, and whether the file is verified (its digest
equals the package's md5sums entry). Probes are cached by (path, size, mtime, inode).

  --user USER      the account name asking
  --path PATH      the executable
  --clsid CLSID    a COM class id, for COM elevation (braces optional)
  --json           print one JSON object
  --explain        show the probed identity and how each policy and grant was evaluated
  --state-dir DIR  where the agent keeps its state

Exit status: 0 allowed, 3 denied, 2 bad usage, 1 other error.`;

export type CheckResult = Pick<Decision, "allowed" | "reason" | "source" | "expiresAt" | "evaluated" | "evaluatedGrants"> & {
  user: string;
  app: AppIdentity;
  bundleVersion: number | null;
  /** What the probe could not learn, and why. */
  probeNotes: string[];
  probeCached: boolean;
};

/** Loads the bundle to decide with; any problem becomes a denial reason, never an allow. */
async function bundleForDecision(store: StateStore, now: Date): Promise<{ bundle: Bundle } | { deny: string }> {
  let config;
  try {
    config = await store.loadConfig();
  } catch (e) {
    if (e instanceof StateFileError) return { deny: `the agent's configuration is unreadable: ${e.message}` };
    throw e;
  }
  if (!config) return { deny: "this computer is not enrolled: nothing is allowed until it is" };
  const cached = await loadCachedBundle(store, config, now);
  if (cached.status === "none") return { deny: "no policy bundle yet: the agent has not synced with the server" };
  if (cached.status === "refused") {
    return { deny: `the cached policy bundle was refused (${cached.refusal.code}): ${cached.refusal.message}; nothing is allowed until a good bundle is pulled` };
  }
  return { bundle: cached.bundle };
}

/** With `explain`, every policy's and rule's verdict is worked out too (the decision is the same either way). */
export async function runCheck(store: StateStore, input: { user: string; path: string; clsid: string | null }, now: Date, opts: { explain?: boolean } = {}): Promise<CheckResult> {
  const probe = await probeIdentity(input.path, { cache: new ProbeCache(join(store.dir, "probe-cache.json")), clsid: input.clsid });
  const app = probe.app;
  const extra = { user: input.user, app, probeNotes: probe.notes, probeCached: probe.cached };
  const denied = (reason: string, bundleVersion: number | null = null): CheckResult => ({
    allowed: false,
    reason,
    source: null,
    expiresAt: null,
    evaluated: [],
    evaluatedGrants: [],
    bundleVersion,
    ...extra,
  });
  const loaded = await bundleForDecision(store, now);
  if ("deny" in loaded) return denied(loaded.deny);
  // A file we cannot identify is never elevated, whatever a path rule might say.
  if (!probe.ok) return denied(probe.notes.join("; "), loaded.bundle.version);
  const d = decide(loaded.bundle, { user: input.user, app, at: now }, { trace: opts.explain ? "rules" : "policies" });
  return { allowed: d.allowed, reason: d.reason, source: d.source, expiresAt: d.expiresAt, evaluated: d.evaluated, evaluatedGrants: d.evaluatedGrants, bundleVersion: loaded.bundle.version, ...extra };
}

function describeSource(r: CheckResult): string {
  if (!r.source) return r.reason;
  const by = r.source.type === "policy" ? `by policy ${JSON.stringify(r.source.name)}` : `by approved ${r.source.name}`;
  return r.expiresAt ? `${by} until ${r.expiresAt}` : by;
}

const known = (v: string | boolean | null | undefined, unknown = "unknown") => (v === null || v === undefined ? unknown : String(v));

/** The --explain text: the probed identity, then each policy and grant with why it matched or not. */
export function explainLines(r: CheckResult): string[] {
  const lines = [
    "  identity:",
    `    path      ${r.app.path}`,
    `    sha256    ${known(r.app.sha256)}`,
    `    package   ${r.app.packageName ? `${r.app.packageName} ${known(r.app.packageVersion)}` : "none"}`,
    `    vendor    ${known(r.app.vendor)}`,
    `    verified  ${r.app.verified === true ? "yes" : r.app.verified === false ? "no" : "unknown"}`,
  ];
  if (r.app.clsid) lines.push(`    clsid     ${r.app.clsid}`);
  if (r.probeCached) lines.push("    (from the probe cache: the file is unchanged since it was last hashed)");
  for (const note of r.probeNotes) lines.push(`    note: ${note}`);
  lines.push(`  bundle: ${r.bundleVersion === null ? "none" : `version ${r.bundleVersion}`}`);
  if (r.allowed) lines.push(`  reason: ${r.reason}`);
  if (r.evaluated.length === 0) lines.push("  policies: none evaluated");
  for (const ev of r.evaluated) {
    lines.push(`  policy ${JSON.stringify(ev.policyName)} (${ev.policyId}): ${ev.outcome} — ${ev.detail}`);
    for (const rule of ev.rules ?? []) lines.push(`    ${rule.matched ? "✓" : "✗"} ${rule.rule}: ${rule.detail}`);
  }
  for (const g of r.evaluatedGrants) lines.push(`  grant ${g.grantId} (request ${g.requestId}): ${g.outcome} — ${g.detail}`);
  return lines;
}

export const checkCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, {
      ...COMMON_OPTIONS,
      user: { type: "string" },
      path: { type: "string" },
      clsid: { type: "string" },
      json: { type: "boolean" },
      explain: { type: "boolean" },
    });
    const user = required(v.user, "user", "USER").trim();
    const path = required(v.path, "path", "PATH");
    if (path.includes("\0")) throw new UsageError("--path must not hold a NUL character");
    const clsid = parseClsidOption(v.clsid);

    let r: CheckResult;
    // Denied: may the user ask for elevation, and with which exact command (requests, issue 4).
    let hint: RequestHint = { canRequest: false, requestCommand: null, maxDuration: null };
    try {
      const store = storeFor(v["state-dir"]);
      const now = new Date();
      r = await runCheck(store, { user, path, clsid }, now, { explain: Boolean(v.explain) });
      // Every decision goes on the audit trail (queued here, sent by the daemon). An elevation that cannot be
      // recorded is not allowed.
      try {
        await recordCheck(store, r, now);
      } catch (e) {
        if (r.allowed) r = { ...r, allowed: false, source: null, expiresAt: null, reason: `allowed, but it could not be recorded for the audit trail (${(e as Error).message}); denied` };
      }
      if (!r.allowed) hint = await loadRequestHint(store, user, r.app.path, now).catch(() => hint);
    } catch (e) {
      throw new CliError(`cannot decide: ${(e as Error).message}`);
    }

    if (v.json) {
      const { evaluated, evaluatedGrants, probeNotes, probeCached, ...rest } = r;
      out(JSON.stringify(v.explain ? { ...rest, ...hint, probeNotes, probeCached, evaluated, evaluatedGrants } : { ...rest, ...hint }));
    } else {
      out(`${r.allowed ? "ALLOWED" : "DENIED"} ${r.user} ${r.app.path} — ${describeSource(r)}`);
      if (v.explain) for (const line of explainLines(r)) out(line);
      if (hint.canRequest) out(`You may request elevation (up to ${hint.maxDuration}): ${hint.requestCommand}`);
    }
    return r.allowed ? 0 : 3;
  },
};
