// `jit-agent run`: the daemon in the foreground (for systemd or a terminal). SIGTERM/SIGINT stop it with exit 0.
import { COMMON_OPTIONS, parseCommandArgs, parseSeconds, UsageError } from "../args";
import { createLogger, runDaemon } from "../daemon";
import { runEventSender } from "../events-queue";
import { startEnforcement } from "../enforce/start";
import { notifyUnsupported, systemDeps, UserNotifier } from "../notify-user";
import { MAX_LONG_POLL_SECONDS } from "../../core/protocol";
import { requireConfig, storeFor, type Command } from "./shared";

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"];

const usage = `Usage: jit-agent run [--wait SECONDS] [--log-level LEVEL] [--no-notify-user] [--notify-poll SECONDS] [--utmp FILE] [--state-dir DIR]

Runs the agent: keeps the policy bundle up to date by long-polling the server, applying
each new version as soon as it is published. Logs one JSON line per event to stdout.
Network and server errors are retried with exponential backoff (up to 60 s); the cached
bundle stays in force meanwhile. SIGTERM or SIGINT stops it.

As root on Linux it also tells end users how their requests turned out (approved,
declined, lapsed, revoked, ended): a line on each of their terminals that accepts
messages (mesg y), and a desktop notification (notify-send) in their graphical session.

  --wait SECONDS     how long each poll may wait on the server (default 25, at most ${MAX_LONG_POLL_SECONDS})
  --log-level LEVEL  ${LEVELS.join(", ")} (default info; debug also logs each "unchanged")
  --no-notify-user   do not tell end users about their requests
  --notify-poll SECONDS  how often to ask the server about this computer's requests while
                     none is pending (default 120; a new bundle or a pending request is followed at once)
  --utmp FILE        the login records that show users' terminals (default: who's, /var/run/utmp)
  --state-dir DIR    where the agent keeps its state`;

export const runCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, {
      ...COMMON_OPTIONS,
      wait: { type: "string" },
      "log-level": { type: "string" },
      "no-notify-user": { type: "boolean" },
      "notify-poll": { type: "string" },
      utmp: { type: "string" },
    });
    const wait = parseSeconds(v.wait, "wait", 25, 0, MAX_LONG_POLL_SECONDS);
    const notifyPoll = parseSeconds(v["notify-poll"], "notify-poll", 120, 2, 3600);
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
    const notifyOff = v["no-notify-user"] ? "turned off with --no-notify-user" : notifyUnsupported();
    const notifier = notifyOff ? null : new UserNotifier({ store, logger, idlePollMs: notifyPoll * 1000, deps: systemDeps({ utmp: v.utmp }) });
    // A request asked for through `jit run` is followed by the notifier at once.
    const enforcement = await startEnforcement(store, logger, () => notifier?.kick());
    logger.info({ event: "notify_user", on: !notifyOff, ...(notifyOff ? { reason: notifyOff } : {}) }, notifyOff ? `end users are not notified: ${notifyOff}` : "end users are notified of their requests' outcomes");
    try {
      // The bundle loop, the event reports and the user notices run side by side: a slow long-poll holds back neither.
      await Promise.all([
        runDaemon({
          store,
          wait,
          signal: controller.signal,
          logger,
          onBundleApplied: async () => {
            notifier?.kick();
            await enforcement?.onBundleApplied();
          },
          onRequestsSent: () => notifier?.kick(),
        }),
        runEventSender({ store, signal: controller.signal, logger }),
        notifier?.run(controller.signal),
      ]);
    } finally {
      await enforcement?.stop();
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
    return 0;
  },
};
