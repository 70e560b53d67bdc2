// The daemon's sync loop: long-poll for the bundle, apply each new version at once, back off on failure,
// keep the cache meanwhile, and stop promptly when its signal aborts.
import { setTimeout as sleep } from "node:timers/promises";
import pino, { type Logger } from "pino";
import { backoffDelayMs } from "./backoff";
import { AgentHttpError } from "./client";
import { StateFileError, type AgentConfig, type StateStore } from "./state";
import { flushQueue, loadQueue } from "./request-client";
import { syncOnce } from "./sync";
import { loadCachedBundle } from "./trusted-bundle";
import { AGENT_VERSION } from "./version";

/** One JSON line per event on stdout. The agent token is redacted should any code path ever pass it in. */
export function createLogger(level: string): Logger {
  return pino(
    {
      name: "jit-agent",
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ["agentToken", "*.agentToken", "token", "*.token", "authorization", "*.authorization", "headers.Authorization"], censor: "[redacted]" },
    },
    // Synchronous writes: every line is out before a signal-driven exit.
    pino.destination({ dest: 1, sync: true }),
  );
}

export type DaemonOptions = {
  store: StateStore;
  /** Seconds each long-poll may wait on the server (capped by the server at 60). */
  wait: number;
  signal: AbortSignal;
  logger: Logger;
  random?: () => number;
  /** Called after each new bundle version is applied (the sudo back end rewrites its rights at once). */
  onBundleApplied?: (version: number) => Promise<void>;
  /** Called when queued requests reached the server (the user notifier starts following them). */
  onRequestsSent?: () => void;
};

/** An "unchanged" answer faster than this means no long-poll (--wait 0, or a server that does not hold): pace ourselves. */
const MIN_POLL_INTERVAL_MS = 1_000;
/** While backing off with requests queued, how often the daemon tries to send them. */
const QUEUE_PROBE_MS = 2_000;

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // Aborted: the loop sees signal.aborted and stops.
  }
}

export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const { store, wait, signal, logger } = opts;
  let failures = 0;
  let startedLogged = false;

  /** Sends what is queued; true when the server took or refused some of it (logged, and the notifier told). */
  const flush = async (config: AgentConfig): Promise<boolean> => {
    const flushed = await flushQueue(store, config, signal).catch(() => null);
    if (!flushed || (!flushed.sent.length && !flushed.refused.length)) return false;
    logger.info({ event: "requests_sent", sent: flushed.sent.map((x) => ({ ref: x.clientRef, id: x.view.id, status: x.view.status })), refused: flushed.refused, left: flushed.left }, "queued requests sent");
    opts.onRequestsSent?.();
    return true;
  };

  /**
   * Waits out a back-off, but while requests are queued tries to send them every QUEUE_PROBE_MS: the first server that
   * answers takes them at once (and ends the back-off: it is up), rather than after the whole delay.
   */
  const backOff = async (ms: number) => {
    const end = Date.now() + ms;
    while (!signal.aborted && Date.now() < end) {
      await pause(Math.min(QUEUE_PROBE_MS, end - Date.now()), signal);
      if (signal.aborted || (await loadQueue(store)).length === 0) continue;
      const config = await store.loadConfig().catch(() => null);
      if (config && (await flush(config))) return;
    }
  };

  while (!signal.aborted) {
    const started = Date.now();
    let failed: Record<string, unknown> | null = null;
    try {
      // Re-read each round, so `enroll --force` takes effect without restarting the daemon.
      const config = await store.loadConfig();
      if (!config) throw new StateFileError(store.path("config"), `this computer is not enrolled (no ${store.path("config")})`);
      if (!startedLogged) {
        const cached = await loadCachedBundle(store, config, new Date());
        logger.info(
          {
            event: "start",
            agentVersion: AGENT_VERSION,
            server: config.server,
            ...(config.servers && config.servers.length > 1 ? { servers: config.servers } : {}),
            computer: config.computer,
            stateDir: store.dir,
            wait,
            cachedVersion: cached.status === "trusted" ? cached.bundle.version : null,
            ...(cached.status === "refused" ? { cachedRefused: cached.refusal } : {}),
          },
          "daemon started",
        );
        startedLogged = true;
      }
      // Requests queued while the server was down go first (jit-agent request told the user they would).
      await flush(config);
      const onFailover = (from: string, e: AgentHttpError) =>
        logger.warn({ event: "server_failover", from, kind: e.kind, message: e.message }, `${from} is not answering (${e.message}); trying the next server`);
      const r = await syncOnce(store, config, { wait, signal, onFailover });
      // A server answered: requests queued meanwhile (a server down, or a long-poll in progress) go now, not next round.
      if ((await loadQueue(store)).length > 0) await flush(config);
      if (r.status === "applied") {
        failures = 0;
        logger.info({ event: "bundle_applied", version: r.version, previous: r.previous }, `bundle version ${r.version} applied`);
        await opts.onBundleApplied?.(r.version);
      } else if (r.status === "unchanged") {
        failures = 0;
        logger.debug({ event: "bundle_unchanged", version: r.version }, "bundle unchanged");
        if (Date.now() - started < MIN_POLL_INTERVAL_MS) await pause(MIN_POLL_INTERVAL_MS, signal);
      } else {
        // The server keeps offering a bundle we refuse; asking again at once would only spin.
        failed = { event: "bundle_refused", code: r.refusal.code, message: r.refusal.message, offeredVersion: r.offeredVersion, keptVersion: r.version };
      }
    } catch (e) {
      if (signal.aborted) break;
      if (e instanceof AgentHttpError && e.kind === "unauthorized") {
        failed = {
          event: "unauthorized",
          status: e.status,
          code: e.code,
          message: `the server refused this computer's credential (${e.message}); it may have been revoked. The cached bundle stays in force until it expires; re-enroll with \`jit-agent enroll --force\``,
        };
      } else if (e instanceof AgentHttpError) {
        failed = { event: "sync_failed", kind: e.kind, status: e.status, code: e.code, message: e.message };
      } else {
        failed = { event: "sync_failed", kind: "internal", message: e instanceof Error ? e.message : String(e) };
      }
    }
    if (failed && !signal.aborted) {
      const delayMs = backoffDelayMs(failures, opts.random);
      failures += 1;
      const level = failed.event === "sync_failed" && failed.kind !== "internal" ? "warn" : "error";
      logger[level]({ ...failed, attempt: failures, retryInMs: delayMs }, String(failed.message));
      await backOff(delayMs);
    }
  }
  logger.info({ event: "stop" }, "daemon stopped");
}
