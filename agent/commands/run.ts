// `jit-agent run`: the daemon in the foreground (for systemd or a terminal). SIGTERM/SIGINT stop it with exit 0.
import { COMMON_OPTIONS, parseCommandArgs, parseSeconds, UsageError } from "../args";
import { createLogger, runDaemon } from "../daemon";
import { runEventSender } from "../events-queue";
import { startEnforcement } from "../enforce/start";
import { MAX_LONG_POLL_SECONDS } from "../../core/protocol";
import { requireConfig, storeFor, type Command } from "./shared";

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"];

const usage = `Usage: jit-agent run [--wait SECONDS] [--log-level LEVEL] [--state-dir DIR]

Runs the agent: keeps the policy bundle up to date by long-polling the server, applying
each new version as soon as it is published. Logs one JSON line per event to stdout.
Network and server errors are retried with exponential backoff (up to 60 s); the cached
bundle stays in force meanwhile. SIGTERM or SIGINT stops it.

  --wait SECONDS     how long each poll may wait on the server (default 25, at most ${MAX_LONG_POLL_SECONDS})
  --log-level LEVEL  ${LEVELS.join(", ")} (default info; debug also logs each "unchanged")
  --state-dir DIR    where the agent keeps its state`;

export const runCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, { ...COMMON_OPTIONS, wait: { type: "string" }, "log-level": { type: "string" } });
    const wait = parseSeconds(v.wait, "wait", 25, 0, MAX_LONG_POLL_SECONDS);
    const level = v["log-level"] ?? "info";
    if (!LEVELS.includes(level)) throw new UsageError(`--log-level expects one of ${LEVELS.join(", ")}, got ${JSON.stringify(level)}`);
    const store = storeFor(v["state-dir"]);
    // Refuse to start when not enrolled: a daemon that can never sync is a mistake to report, not to retry.
    await requireConfig(store);

    const logger = createLogger(level);
    const controller = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (controller.signal.aborted) process.exit(0); // a second signal: stop now
      logger.info({ event: "signal", signal: sig }, `received ${sig}, stopping`);
      controller.abort();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    // With `enforce: sudo`, the rights are reconciled before anything else (start-up takes away what ended meanwhile).
    const enforcement = await startEnforcement(store, logger);
    try {
      // The bundle loop and the event reports run side by side: a slow long-poll never holds back a report.
      await Promise.all([
        runDaemon({ store, wait, signal: controller.signal, logger, onBundleApplied: enforcement?.onBundleApplied }),
        runEventSender({ store, signal: controller.signal, logger }),
      ]);
    } finally {
      await enforcement?.stop();
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
    return 0;
  },
};
