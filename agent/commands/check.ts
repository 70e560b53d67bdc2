// `jit-agent check`: may this user run this file elevated now? Probes the file for real and decides from the
// cached bundle only, so it works offline and never waits on the server.
import { ClsidRuleSchema } from "../../core/app-rule";
import type { Bundle } from "../../core/bundle";
import { decide, type AppIdentity, type Decision } from "../../core/decide";
import { CliError, COMMON_OPTIONS, out, parseCommandArgs, required, UsageError } from "../args";
import { probeFile } from "../probe/file";
import { StateFileError, type StateStore } from "../state";
import { loadCachedBundle } from "../trusted-bundle";
import { storeFor, type Command } from "./shared";

const usage = `Usage: jit-agent check --user USER --path PATH [--clsid CLSID] [--json] [--explain] [--state-dir DIR]

Decides, from the cached policy bundle and without contacting the server, whether USER
may run the executable at PATH elevated now. The file is probed: its real path
(symbolic links and ".." resolved) and its SHA-256.

  --user USER      the account name asking
  --path PATH      the executable
  --clsid CLSID    a COM class id, for COM elevation
  --json           print one JSON object
  --explain        show how each policy was evaluated
  --state-dir DIR  where the agent keeps its state

Exit status: 0 allowed, 3 denied, 2 bad usage, 1 other error.`;

export type CheckResult = Pick<Decision, "allowed" | "reason" | "source" | "expiresAt" | "evaluated"> & {
  user: string;
  app: AppIdentity;
  bundleVersion: number | null;
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

export async function runCheck(store: StateStore, input: { user: string; path: string; clsid: string | null }, now: Date): Promise<CheckResult> {
  const probe = await probeFile(input.path);
  const app: AppIdentity = { path: probe.path, sha256: probe.ok ? probe.sha256 : null, clsid: input.clsid };
  const denied = (reason: string, bundleVersion: number | null = null): CheckResult => ({
    allowed: false,
    reason,
    source: null,
    expiresAt: null,
    evaluated: [],
    user: input.user,
    app,
    bundleVersion,
  });
  const loaded = await bundleForDecision(store, now);
  if ("deny" in loaded) return denied(loaded.deny);
  // A file we cannot identify is never elevated, whatever a path rule might say.
  if (!probe.ok) return denied(probe.reason, loaded.bundle.version);
  const d = decide(loaded.bundle, { user: input.user, app, at: now });
  return { allowed: d.allowed, reason: d.reason, source: d.source, expiresAt: d.expiresAt, evaluated: d.evaluated, user: input.user, app, bundleVersion: loaded.bundle.version };
}

function describeSource(r: CheckResult): string {
  if (!r.source) return r.reason;
  const by = r.source.type === "policy" ? `by policy ${JSON.stringify(r.source.name)}` : `by approved ${r.source.name}`;
  return r.expiresAt ? `${by} until ${r.expiresAt}` : by;
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
    let clsid: string | null = null;
    if (v.clsid !== undefined) {
      const c = ClsidRuleSchema.shape.clsid.safeParse(v.clsid);
      if (!c.success) throw new UsageError(`--clsid: ${c.error.issues[0]?.message ?? "not a CLSID"}`);
      clsid = c.data;
    }

    let r: CheckResult;
    try {
      r = await runCheck(storeFor(v["state-dir"]), { user, path, clsid }, new Date());
    } catch (e) {
      throw new CliError(`cannot decide: ${(e as Error).message}`);
    }

    if (v.json) {
      const { evaluated, ...rest } = r;
      out(JSON.stringify(v.explain ? { ...rest, evaluated } : rest));
    } else {
      out(`${r.allowed ? "ALLOWED" : "DENIED"} ${r.user} ${r.app.path} — ${describeSource(r)}`);
      if (v.explain) {
        out(`  app: ${r.app.path}${r.app.sha256 ? ` sha256 ${r.app.sha256}` : ""}${r.app.clsid ? ` clsid ${r.app.clsid}` : ""}`);
        out(`  bundle: ${r.bundleVersion === null ? "none" : `version ${r.bundleVersion}`}`);
        if (r.allowed) out(`  reason: ${r.reason}`);
        if (r.evaluated.length === 0) out("  policies: none evaluated");
        for (const ev of r.evaluated) out(`  policy ${JSON.stringify(ev.policyName)} (${ev.policyId}): ${ev.outcome} — ${ev.detail}`);
      }
    }
    return r.allowed ? 0 : 3;
  },
};
