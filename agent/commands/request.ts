// `jit-agent request`: ask for elevation of one application for a while, with a justification. Probes the file as
// `check` does, submits, and (with --wait) stays until an approver decides. Queued on disk when the server is down.
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import type { Bundle, BundleRequestSettings } from "../../core/bundle";
import { describeDuration, DURATION_PATTERN, durationMs } from "../../core/duration";
import type { AgentRequestView, SubmitRequest } from "../../core/protocol";
import { CliError, COMMON_OPTIONS, err, out, parseClsidOption, parseCommandArgs, parseSeconds, required, UsageError } from "../args";
import { probeIdentity, ProbeCache } from "../probe/identity";
import { enqueue, dropQueued, getRequest, isUnreachable, newClientRef, submitRequest } from "../request-client";
import type { AgentConfig, StateStore } from "../state";
import { syncOnce } from "../sync";
import { loadCachedBundle } from "../trusted-bundle";
import { requireConfig, storeFor, type Command } from "./shared";

const usage = `Usage: jit-agent request --user USER --path PATH [--clsid CLSID] [--duration 30m] [--reason TEXT] [--wait] [--timeout SECONDS] [--extends ID] [--json] [--state-dir DIR]

Asks the server for USER to run the executable at PATH elevated for a while. The file
is probed as \`check\` does (real path, SHA-256, package); the approver sees what was probed.
Without --duration and --reason on a terminal, asks for both (then waits for the decision).
When the server cannot be reached the request is queued in the state directory and sent
when it is back (by the next \`request\`, or at once by a running \`jit-agent run\`).

  --clsid CLSID      the COM class id to elevate, for COM elevation (braces optional)
  --duration 30m     how long (minutes m, hours h, days d), at most the server's maximum
  --reason TEXT      the justification the approver reads
  --wait             stay until the request is decided (or --timeout passes), then print the outcome
  --timeout SECONDS  how long --wait waits (default 600)
  --extends ID       ask to extend the active grant of request ID (a new request linked to it)
  --json             print one JSON object (at least id and status; status "queued" when queued)
  --state-dir DIR    where the agent keeps its state

Exit status: 0 submitted (or approved, with --wait), 3 declined, cancelled or lapsed,
4 still pending when --timeout passed, 2 bad usage, 1 other error.`;

/** `cancel ID` and `done ID`: one positional request id, and the common options. */
export function idAndOptions(args: string[]): { id: string; values: { "state-dir"?: string } } {
  let r;
  try {
    r = parseArgs({ args, options: { ...COMMON_OPTIONS }, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0] ?? "bad arguments");
  }
  if (r.positionals.length !== 1) throw new UsageError(r.positionals.length === 0 ? "missing request ID" : `expected one request ID, got ${r.positionals.length}`);
  return { id: r.positionals[0]!, values: r.values };
}

const DURATION_CHOICES = ["15m", "30m", "1h", "2h", "4h", "8h", "1d"];

/** The shell-quoted `jit-agent request …` line a denied user can run. */
export function requestCommandLine(user: string, path: string, settings: BundleRequestSettings | undefined): string {
  const q = (s: string) => (/^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const max = settings ? durationMs(settings.maxDuration) : null;
  const duration = max !== null && max < 30 * 60_000 ? settings!.maxDuration : "30m";
  return `jit-agent request --user ${q(user)} --path ${q(path)} --duration ${duration} --reason '…'`;
}

export type RequestHint = { canRequest: boolean; requestCommand: string | null; maxDuration: string | null };

/** For `check` on a denied app: may the user ask, and the exact line to do it. */
export function requestHint(bundle: Bundle | null, user: string, path: string, now: Date): RequestHint {
  const s = bundle?.requests;
  const fresh = bundle !== null && now.getTime() < Date.parse(bundle.validUntil);
  if (!s?.enabled || !fresh) return { canRequest: false, requestCommand: null, maxDuration: null };
  return { canRequest: true, requestCommand: requestCommandLine(user, path, s), maxDuration: s.maxDuration };
}

export async function loadRequestHint(store: StateStore, user: string, path: string, now: Date): Promise<RequestHint> {
  const config = await store.loadConfig().catch(() => null);
  if (!config) return { canRequest: false, requestCommand: null, maxDuration: null };
  const cached = await loadCachedBundle(store, config, now);
  return requestHint(cached.status === "trusted" ? cached.bundle : null, user, path, now);
}

async function askInteractively(settings: BundleRequestSettings | undefined, have: { duration?: string; reason?: string }): Promise<{ duration: string; reason: string }> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    let duration = have.duration;
    if (!duration) {
      const max = settings ? durationMs(settings.maxDuration)! : Infinity;
      const choices = DURATION_CHOICES.filter((c) => durationMs(c)! <= max);
      if (settings && !choices.includes(settings.maxDuration)) choices.push(settings.maxDuration);
      err(`For how long? (at most ${settings ? describeDuration(settings.maxDuration) : "what the server allows"})`);
      choices.forEach((c, i) => err(`  ${i + 1}) ${describeDuration(c)}`));
      for (;;) {
        const a = (await rl.question(`Choose 1-${choices.length}: `)).trim();
        const n = Number(a);
        if (Number.isInteger(n) && n >= 1 && n <= choices.length) {
          duration = choices[n - 1]!;
          break;
        }
        if (DURATION_PATTERN.test(a) && durationMs(a)! <= max) {
          duration = a;
          break;
        }
        err(`  Type a number from 1 to ${choices.length}.`);
      }
    }
    let reason = have.reason;
    const min = settings?.minJustificationLength ?? 1;
    while (!reason || reason.trim().length < min) {
      reason = (await rl.question(`Why do you need it? (at least ${min} characters): `)).trim();
      if (reason.length < min) err(`  That is ${reason.length} characters; say a little more (at least ${min}).`);
    }
    return { duration: duration!, reason: reason.trim() };
  } finally {
    rl.close();
  }
}

function describe(v: AgentRequestView): string {
  switch (v.status) {
    case "pending":
      return v.approvalsNeeded > 1
        ? `pending: waiting for approvers (${v.approvalsSoFar} of ${v.approvalsNeeded} approvals)`
        : "pending: waiting for an approver";
    case "approved":
      return `approved by ${v.decidedBy?.name ?? "an approver"} for ${describeDuration(v.grantedDuration ?? v.requestedDuration)}, until ${v.endsAt}${v.note ? ` (note: ${v.note})` : ""}`;
    case "declined":
      return `declined by ${v.decidedBy?.name ?? "an approver"}: ${v.declineReason ?? "no reason given"}`;
    case "cancelled":
      return "cancelled";
    case "lapsed":
      return "lapsed: nobody answered it in time";
    case "revoked":
      return `ended (revoked by ${v.revokedBy?.name ?? "someone"})`;
    case "expired":
      return `ended (expired at ${v.endsAt})`;
  }
}

const exitFor = (status: string) => (status === "approved" || status === "pending" || status === "queued" ? 0 : 3);

/** Waits until the request is decided or the deadline passes; keeps trying through a server restart. */
async function waitForDecision(config: AgentConfig, id: string, deadline: number): Promise<AgentRequestView | null> {
  let last: AgentRequestView | null = null;
  while (Date.now() < deadline) {
    const wait = Math.max(0, Math.min(25, Math.floor((deadline - Date.now()) / 1000)));
    try {
      last = await getRequest(config, id, wait);
      if (last.status !== "pending") return last;
      if (wait === 0) break;
    } catch (e) {
      if (!isUnreachable(e)) throw e;
      await new Promise((r) => setTimeout(r, Math.min(2_000, Math.max(0, deadline - Date.now()))));
    }
  }
  return last;
}

export const requestCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, {
      ...COMMON_OPTIONS,
      user: { type: "string" },
      path: { type: "string" },
      duration: { type: "string" },
      reason: { type: "string" },
      wait: { type: "boolean" },
      timeout: { type: "string" },
      extends: { type: "string" },
      clsid: { type: "string" },
      json: { type: "boolean" },
    });
    const clsid = parseClsidOption(v.clsid);
    const user = required(v.user, "user", "USER").trim();
    const path = required(v.path, "path", "PATH");
    if (path.includes("\0")) throw new UsageError("--path must not hold a NUL character");
    const timeoutS = parseSeconds(v.timeout, "timeout", 600, 1, 86_400);
    const store = storeFor(v["state-dir"]);
    const config = await requireConfig(store);
    const now = new Date();
    const cached = await loadCachedBundle(store, config, now);
    const settings = cached.status === "trusted" ? cached.bundle.requests : undefined;
    if (settings && !settings.enabled) throw new CliError("elevation requests are turned off on this server; ask an administrator", 3);

    let duration = typeof v.duration === "string" ? v.duration.trim() : undefined;
    let reason = typeof v.reason === "string" ? v.reason.trim() : undefined;
    let wait = Boolean(v.wait);
    if (!duration || !reason) {
      if (!process.stdin.isTTY) throw new UsageError(`missing ${!duration ? "--duration DURATION" : "--reason TEXT"} (or run it in a terminal to be asked)`);
      ({ duration, reason } = await askInteractively(settings, { duration, reason }));
      wait = true;
    }
    if (!DURATION_PATTERN.test(duration)) throw new UsageError(`--duration expects a duration like 30m, 2h or 1d, got ${JSON.stringify(duration)}`);
    if (settings && durationMs(duration)! > durationMs(settings.maxDuration)!) {
      throw new UsageError(`--duration ${duration} is longer than the maximum of ${describeDuration(settings.maxDuration)}`);
    }
    if (settings && reason.length < settings.minJustificationLength) {
      throw new UsageError(`--reason must be at least ${settings.minJustificationLength} characters (it has ${reason.length})`);
    }

    const probe = await probeIdentity(path, { cache: new ProbeCache(join(store.dir, "probe-cache.json")), clsid });
    if (!probe.ok || !probe.app.sha256) throw new CliError(`cannot identify ${path}: ${probe.notes.join("; ") || "it could not be read"}`);
    const a = probe.app;
    const body: SubmitRequest & { clientRef: string } = {
      user,
      app: {
        path: a.path,
        sha256: a.sha256!,
        ...(a.packageName ? { packageName: a.packageName } : {}),
        ...(a.packageVersion ? { packageVersion: a.packageVersion } : {}),
        ...(a.vendor ? { vendor: a.vendor } : {}),
        ...(typeof a.verified === "boolean" ? { verified: a.verified } : {}),
        ...(clsid ? { clsid } : {}),
      },
      duration,
      justification: reason,
      ...(typeof v.extends === "string" ? { extendsRequestId: v.extends } : {}),
      clientRef: newClientRef(),
    };

    const deadline = Date.now() + timeoutS * 1000;
    let view: AgentRequestView | null = null;
    try {
      view = await submitRequest(config, body);
    } catch (e) {
      if (!isUnreachable(e)) throw new CliError(`the server refused the request: ${(e as Error).message}`, e instanceof Error && /turned off/.test(e.message) ? 3 : 1);
      await enqueue(store, body, now);
      if (!wait) {
        if (v.json) out(JSON.stringify({ id: body.clientRef, status: "queued", queued: true, reason: (e as Error).message }));
        else out(`Queued: the server cannot be reached (${(e as Error).message}). Your request is saved on this computer (${body.clientRef}) and will be sent when the server is back.`);
        return 0;
      }
      if (!v.json) err(`Queued: the server cannot be reached (${(e as Error).message}). Your request is saved on this computer and will be sent when the server is back; waiting…`);
      while (!view && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2_000));
        try {
          view = await submitRequest(config, body);
          await dropQueued(store, body.clientRef);
        } catch (e2) {
          if (!isUnreachable(e2)) {
            await dropQueued(store, body.clientRef);
            throw new CliError(`the server refused the request: ${(e2 as Error).message}`);
          }
        }
      }
      if (!view) {
        if (v.json) out(JSON.stringify({ id: body.clientRef, status: "queued", queued: true }));
        else out(`Still queued after ${timeoutS} s: it will be sent when the server is back.`);
        return 4;
      }
    }

    if (!v.json) out(`Request ${view.id}: ${describe(view)}`);
    if (wait && view.status === "pending") {
      const decided = await waitForDecision(config, view.id, deadline);
      if (decided) view = decided;
      if (view.status === "pending") {
        if (v.json) out(JSON.stringify({ ...view, timedOut: true }));
        else out(`No decision within ${timeoutS} s; the request stays pending (see \`jit-agent requests --user ${user}\`).`);
        return 4;
      }
      if (!v.json) out(`Request ${view.id}: ${describe(view)}`);
    }
    if (view.status === "approved") {
      // Fetch the bundle that carries the grant now, so `check` allows at once even without a running daemon.
      await syncOnce(store, config, { wait: 0 }).catch(() => {});
    }
    if (v.json) out(JSON.stringify(view));
    return exitFor(view.status);
  },
};
