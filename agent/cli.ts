// The `jit-agent` command line: dispatch to a command, and turn every failure into one line and an exit code
// (2 bad usage, 1 other errors; `check` adds 3 for denied). Never a stack trace.
import { CliError, err, out, UsageError } from "./args";
import { cancelCommand } from "./commands/cancel";
import { checkCommand } from "./commands/check";
import { doneCommand } from "./commands/done";
import { enforceCommand } from "./commands/enforce";
import { enrollCommand } from "./commands/enroll";
import { installCommand, uninstallCommand } from "./commands/install";
import { requestCommand } from "./commands/request";
import { requestsCommand } from "./commands/requests";
import { runCommand } from "./commands/run";
import type { Command } from "./commands/shared";
import { statusCommand } from "./commands/status";
import { syncCommand } from "./commands/sync";
import { AGENT_VERSION } from "./version";

const COMMANDS: Record<string, Command> = {
  enroll: enrollCommand,
  sync: syncCommand,
  run: runCommand,
  check: checkCommand,
  status: statusCommand,
  request: requestCommand,
  requests: requestsCommand,
  cancel: cancelCommand,
  done: doneCommand,
  enforce: enforceCommand,
  install: installCommand,
  uninstall: uninstallCommand,
};

const USAGE = `Usage: jit-agent COMMAND [OPTIONS]

The JIT Access endpoint agent.

Commands:
  enroll   enroll this computer with the server (--server URL --token TOKEN)
  sync     pull the policy bundle once, now
  run      run the agent: keep the bundle up to date (long-poll)
  check    may a user run a file elevated now? (--user USER --path PATH)
  status   enrollment, bundle in force, last sync
  request  ask for elevation (--user USER --path PATH --duration 30m --reason TEXT [--wait])
  requests a user's requests (--user USER)
  cancel   cancel a pending request (ID)
  done     end your approved access early (ID)
  enforce  show or set the enforcement back end (report | sudo)
  install  install the daemon as a systemd service
  uninstall  remove the service and the agent's sudo drop-in

Every command takes --state-dir DIR (default: $JIT_AGENT_STATE_DIR, else
/var/lib/jit-agent as root, else ~/.local/state/jit-agent).

Run \`jit-agent help COMMAND\` for a command's options. jit-agent ${AGENT_VERSION}`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    err("jit-agent: missing command");
    err(USAGE);
    return 2;
  }
  if (name === "--help" || name === "-h") {
    out(USAGE);
    return 0;
  }
  if (name === "--version" || name === "version") {
    out(AGENT_VERSION);
    return 0;
  }
  if (name === "help") {
    const topic = rest[0];
    if (topic === undefined) {
      out(USAGE);
      return 0;
    }
    const cmd = COMMANDS[topic];
    if (!cmd) {
      err(`jit-agent: unknown command ${JSON.stringify(topic)}`);
      err(USAGE);
      return 2;
    }
    out(cmd.usage);
    return 0;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    err(`jit-agent: unknown command ${JSON.stringify(name)}`);
    err(USAGE);
    return 2;
  }
  // --help wins over any other problem with the arguments.
  if (rest.includes("--help") || rest.includes("-h")) {
    out(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      // One line for the problem, then the short usage (the full text is one `help` away).
      err(`jit-agent: ${e.message}`);
      err(cmd.usage.split("\n")[0] ?? "");
      err(`Run \`jit-agent help ${name}\` for details.`);
      return 2;
    }
    throw e;
  }
}

// A reader that goes away (`jit-agent status | head -1`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof CliError) {
    err(`jit-agent: ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    err(`jit-agent: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
// A lingering socket or timer must not keep a finished command alive; unref'd, this never delays a clean exit.
setTimeout(() => process.exit(), 2_000).unref();
