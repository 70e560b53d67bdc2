// The server process: parse the configuration, start, and stop cleanly on SIGTERM / SIGINT.
import pino from "pino";
import { parseEnv } from "./env";
import { startServer } from "./app";

export async function main(opts: { dev: boolean }): Promise<void> {
  const parsed = parseEnv({ ...process.env, ...(opts.dev ? { NODE_ENV: "development" } : {}) });
  if ("error" in parsed) {
    console.error(`jit-server: configuration error: ${parsed.error}`);
    process.exit(2);
  }
  const env = parsed.value;
  const log = pino({ level: env.logLevel, base: { service: "jit-server" } });
  let running;
  try {
    running = await startServer(env, { withNext: true, log });
  } catch (err) {
    log.fatal({ err: err instanceof Error ? { message: err.message } : String(err) }, "could not start");
    console.error(`jit-server: could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  const consoleUrl = env.publicUrl ?? running.url;
  log.info({ url: running.url, database: running.services.dialect, signingKey: running.services.signingKey.keyId }, `JIT Access is running: open the console at ${consoleUrl}`);
  if (!consoleUrl.startsWith("https://")) {
    log.warn("serving plain http: fine for a local trial; put the server behind https (and set PUBLIC_URL) for real use");
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping: finishing requests in flight");
    running.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
