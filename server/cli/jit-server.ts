// `jit-server`: runs and maintains the server.
import { parseArgs } from "node:util";
import pino from "pino";
import { parseEnv } from "../env";
import { openServices } from "../app";
import { AUDIT_USAGE, auditCommand } from "./audit";

const USAGE = `usage: jit-server <command>

commands:
  start [--dev]   run the server (console, tRPC API, agent protocol); configuration from the environment
  migrate         bring the database schema up to date and exit (start does this too)
${AUDIT_USAGE}
  help            this text

environment: PORT (3000), HOST (0.0.0.0), DATA_DIR (./data), DATABASE_URL (unset: SQLite in DATA_DIR),
PUBLIC_URL, ADMIN_EMAIL + ADMIN_PASSWORD, PG_POOL_MAX (10), LOG_LEVEL (info), AUDIT_FILE, AUDIT_SYSLOG. See README.md.`;

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return;
  }
  if (command === "start") {
    const { values } = parseArgs({ args: rest, options: { dev: { type: "boolean", default: false } }, strict: true });
    const { main } = await import("../main");
    await main({ dev: values.dev ?? false });
    return;
  }
  if (command === "migrate") {
    parseArgs({ args: rest, options: {}, strict: true });
    const parsed = parseEnv(process.env);
    if ("error" in parsed) throw new UsageError(`configuration error: ${parsed.error}`);
    const { handle, closeFeed } = await openServices(parsed.value, { log: pino({ level: "warn" }) });
    await closeFeed();
    await handle.db.destroy();
    console.log(`jit-server: ${handle.describe} is up to date`);
    return;
  }
  if (command === "audit") {
    const parsed = parseEnv(process.env);
    if ("error" in parsed) throw new UsageError(`configuration error: ${parsed.error}`);
    process.exitCode = await auditCommand(parsed.value, rest);
    return;
  }
  throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
}

class UsageError extends Error {}

run(process.argv.slice(2)).catch((e: unknown) => {
  const usage = e instanceof UsageError || (e instanceof Error && "code" in e && String((e as { code: unknown }).code).startsWith("ERR_PARSE_ARGS"));
  console.error(`jit-server: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(usage ? 2 : 1);
});
