// The sudo back end at work in the daemon: keeps the drop-in equal to what the bundle allows now. Rewrites it when the
// bundle changes and at the exact instant the next policy or grant starts or ends (one timer, no polling), also
// while the server is unreachable. On start it first takes away whatever is no longer allowed. A monotonic-vs-wall
// clock check every second catches a suspend/resume or a clock jump and re-checks every grant at once.
// Processes started through `jit run` are tracked and ended (or let finish) when their grant ends.
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { Bundle } from "../../core/bundle";
import { decide, type AppIdentity, type DecisionSource } from "../../core/decide";
import { enqueueEvent } from "../events-queue";
import { readJsonFile, writeFileAtomic, type StateStore } from "../state";
import { loadCachedBundle } from "../trusted-bundle";
import { ClockDrift } from "./clock-drift";
import { collectExecutables, HashCache } from "./facts";
import { installDropIn, removeDropIn, type DropInTarget } from "./install";
import { endProcessTree, isAlive, type ProcessRef } from "./processes";
import type { EnforceSettings } from "./settings";
import { nextChangeAt, renderSudoers, safeSudoUser, type SudoFacts } from "./sudoers";

/** setTimeout's longest delay; a later change is reached in steps. */
const MAX_TIMER_MS = 2_147_483_647;

export type TrackedProcess = ProcessRef & { user: string; app: AppIdentity; source: DecisionSource | null; startedAt: string; ending?: boolean };

export type EnforcerOptions = {
  store: StateStore;
  settings: EnforceSettings;
  logger: Logger;
  commandDirs?: string[];
  clock?: () => Date;
};

export class SudoEnforcer {
  readonly target: DropInTarget;
  private bundle: Bundle | null = null;
  private bundleKey = "";
  private facts: SudoFacts = { executables: [] };
  private cache: HashCache;
  private extraPaths = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private drift: ClockDrift | null = null;
  private bundleStat = "";
  private stopped = false;
  readonly processes = new Map<number, TrackedProcess>();
  lastEntries = new Map<string, string[]>();

  constructor(private opts: EnforcerOptions) {
    this.target = { dir: opts.settings.dropInDir, name: opts.settings.dropInName };
    this.cache = new HashCache(join(opts.store.dir, "enforce-hash-cache.json"));
  }

  private now(): Date {
    return this.opts.clock?.() ?? new Date();
  }

  private get pathsFile(): string {
    return join(this.opts.store.dir, "enforce-paths.json");
  }

  /** Start-up: take away what is no longer allowed first (no disk search needed for that), then the full render. */
  async start(): Promise<void> {
    await this.loadBundle();
    const now = this.now();
    const quick = renderSudoers(this.bundle, { executables: [] }, now);
    const r = await installDropIn(this.target, quick.text);
    this.opts.logger.info({ event: "enforce_reconciled", status: r.status, ...(r.status === "invalid" || r.status === "failed" ? { message: r.message } : {}), bundleVersion: this.bundle?.version ?? null }, "sudo rights reconciled at start");
    const raw = (await readJsonFile(this.pathsFile).catch(() => undefined)) as { paths?: unknown } | undefined;
    if (Array.isArray(raw?.paths)) for (const p of raw.paths) if (typeof p === "string") this.extraPaths.add(p);
    await this.cache.load();
    this.drift = new ClockDrift(() => Date.now(), () => performance.now());
    this.bundleStat = await this.bundleFileKey();
    this.ticker = setInterval(() => this.tick(), 1_000);
    this.ticker.unref();
    await this.refresh("start", true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    await this.chain.catch(() => {});
    // Nobody takes rights back on time while the daemon is down: leave none behind.
    await removeDropIn(this.target);
  }

  private async loadBundle(): Promise<boolean> {
    const config = await this.opts.store.loadConfig().catch(() => null);
    const cached = config ? await loadCachedBundle(this.opts.store, config, this.now()) : { status: "none" as const };
    const bundle = cached.status === "trusted" ? cached.bundle : null;
    const key = bundle ? `${bundle.version}:${bundle.issuedAt}` : "none";
    const changed = key !== this.bundleKey;
    this.bundle = bundle;
    this.bundleKey = key;
    return changed;
  }

  /** Every second: a clock jump re-checks everything now; a bundle written by another process is picked up. */
  private tick(): void {
    const drift = this.drift?.check() ?? 0;
    if (drift !== 0) {
      this.opts.logger.warn({ event: "clock_jump", driftMs: Math.round(drift) }, "the wall clock jumped (suspend/resume or a clock change): re-checking every grant now");
      void this.refresh("clock_jump");
      return;
    }
    void this.bundleFileKey().then((key) => {
      if (key === this.bundleStat) return;
      this.bundleStat = key;
      void this.refresh("bundle_file_changed");
    });
  }

  private bundleFileKey(): Promise<string> {
    return fs
      .stat(this.opts.store.path("bundle"))
      .then((st) => `${st.ino}:${st.mtimeMs}:${st.size}`)
      .catch(() => "none");
  }

  /** Re-reads the bundle, re-renders for now, installs, schedules the next change, ends what lost its grant. */
  refresh(reason: string, recollect = false): Promise<void> {
    const run = async () => {
      if (this.stopped) return;
      const changed = await this.loadBundle();
      if (changed || recollect) {
        const started = Date.now();
        const r = await collectExecutables(this.bundle, { cache: this.cache, extraPaths: this.extraPaths, commandDirs: this.opts.commandDirs });
        this.facts = { executables: r.executables };
        this.opts.logger.debug({ event: "enforce_facts", executables: r.executables.length, ms: Date.now() - started, notes: r.notes }, "executables identified");
      }
      const now = this.now();
      const render = renderSudoers(this.bundle, this.facts, now);
      const result = await installDropIn(this.target, render.text);
      this.lastEntries = render.entries;
      if (result.status === "installed") {
        this.opts.logger.info({ event: "sudo_rights_written", reason, bundleVersion: this.bundle?.version ?? null, users: Object.fromEntries(render.entries), refused: render.refused }, "sudo rights rewritten");
      } else if (result.status === "invalid" || result.status === "failed") {
        this.opts.logger.error({ event: "sudo_rights_failed", reason, status: result.status, message: result.message }, result.message);
      }
      if (render.refused.length && result.status === "installed") this.opts.logger.warn({ event: "sudo_rights_refused", refused: render.refused }, "some rights could not be written safely and were left out");
      this.schedule(now);
      await this.checkProcesses(now);
    };
    // Never rejects: a failure is logged, and whoever waits then finds no right written (fail closed).
    const p = this.chain.then(run, run).catch((e: unknown) => {
      this.opts.logger.error({ event: "enforce_failed", message: (e as Error).message }, "enforcement failed");
    });
    this.chain = p;
    return p;
  }

  private schedule(now: Date): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = nextChangeAt(this.bundle, now);
    if (!next) return;
    const delay = Math.min(Math.max(0, next.getTime() - Date.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => void this.refresh("timer"), delay);
  }

  /** A path `jit run` asked about: a File Hash or grant rule can now name it. Returns once the rights reflect it. */
  async notePath(path: string): Promise<void> {
    if (this.extraPaths.has(path)) return this.refresh("check");
    this.extraPaths.add(path);
    await writeFileAtomic(this.pathsFile, JSON.stringify({ paths: [...this.extraPaths].slice(-500) }) + "\n").catch(() => {});
    return this.refresh("new_path", true);
  }

  /** Is this path (with this digest) in the rights written for the user now? */
  hasRight(user: string, path: string, sha256: string | null | undefined): boolean {
    const u = safeSudoUser(user);
    const lists = [u ? this.lastEntries.get(u) : undefined, this.lastEntries.get("ALL")];
    const dir = path.slice(0, path.lastIndexOf("/")) + "/";
    return lists.some((l) => l?.includes(`sha256:${sha256} ${path}`) || l?.includes(dir));
  }

  currentBundle(): Bundle | null {
    return this.bundle;
  }

  track(p: TrackedProcess): void {
    this.processes.set(p.pid, p);
  }

  private async checkProcesses(now: Date): Promise<void> {
    for (const [pid, p] of this.processes) {
      if (!(await isAlive(p))) {
        this.processes.delete(pid);
        continue;
      }
      if (p.ending) continue;
      const d = decide(this.bundle, { user: p.user, app: p.app, at: now }, { trace: "none" });
      if (d.allowed) continue;
      if (this.opts.settings.onEnd === "finish") {
        this.opts.logger.info({ event: "process_left_running", pid, user: p.user, path: p.app.path }, "the grant ended; the process may finish (onEnd: finish)");
        this.processes.delete(pid);
        continue;
      }
      p.ending = true;
      void this.endProcess(p, d.reason);
    }
  }

  private async endProcess(p: TrackedProcess, why: string): Promise<void> {
    const how = await endProcessTree(p, this.opts.settings.graceSeconds * 1000);
    this.processes.delete(p.pid);
    const requestId = p.source?.type === "grant" ? (/^request (.+)$/.exec(p.source.name)?.[1] ?? null) : null;
    this.opts.logger.info({ event: "process_ended", pid: p.pid, user: p.user, path: p.app.path, signal: how }, `ended ${p.app.path} of ${p.user}: its elevation ended`);
    await enqueueEvent(this.opts.store, {
      type: "process_ended",
      at: this.now().toISOString(),
      user: p.user,
      app: { path: p.app.path.slice(0, 4096), sha256: p.app.sha256 ?? null, clsid: null },
      source: p.source,
      requestId,
      reason: `the process (pid ${p.pid}, started ${p.startedAt}) was ended with ${how}: ${why}`.slice(0, 2000),
      bundleVersion: this.bundle?.version ?? null,
    }).catch((e: unknown) => this.opts.logger.error({ event: "event_queue_failed", message: (e as Error).message }, "could not queue the process_ended report"));
  }
}
