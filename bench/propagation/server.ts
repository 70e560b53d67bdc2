// The server under test for bench/propagation, in its own process (so its memory is its own): APIs only, no
// console, a fresh SQLite database in a temp folder. Prints "READY <url>" and stops on SIGTERM.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { startServer } from "../../server/app";

const dataDir = mkdtempSync(join(tmpdir(), "jit-bench-prop-"));
const running = await startServer(
  {
    port: 0,
    host: "127.0.0.1",
    dataDir,
    databaseUrl: process.env.BENCH_DATABASE_URL || null,
    publicUrl: null,
    admin: { email: "bench@example.com", password: "bench password long enough" },
    pgPoolMax: 10,
    logLevel: "silent",
    dev: false,
  },
  { withNext: false, log: pino({ level: "silent" }) },
);
process.stdout.write(`READY ${running.url}\n`);
const stop = async () => {
  await running.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
