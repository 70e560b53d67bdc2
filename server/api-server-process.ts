// A real server process serving the APIs only (no console), for tests and benches that run several servers on one
// PostgreSQL database and kill some: configuration from the environment as `jit-server start` reads it (DATABASE_URL,
// PG_POOL_MAX, PORT…), a temp data folder of its own. Prints "READY <url>" once listening; stops on SIGTERM.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { startServer } from "./app";
import { parseEnv } from "./env";

const dataDir = mkdtempSync(join(tmpdir(), "jit-api-server-"));
const parsed = parseEnv({ HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "silent", ...process.env, DATA_DIR: dataDir });
if ("error" in parsed) {
  console.error(`configuration error: ${parsed.error}`);
  process.exit(2);
}
const log = pino({ level: parsed.value.logLevel });
const running = await startServer(parsed.value, { withNext: false, log });
process.stdout.write(`READY ${running.url}\n`);
const stop = async () => {
  await running.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
