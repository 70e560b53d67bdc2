// Builds the whole server from its configuration: database, migrations, signing key, services, and the one
// HTTP server that routes to tRPC (/api/trpc), the agent protocol (/agent/v1) and Next.js (everything else).
import { setMaxListeners } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { sql } from "kysely";
import pino, { type Logger } from "pino";
import { AGENT_PROTOCOL_BASE } from "../core/protocol";
import { durationMs } from "../core/duration";
import { createAgentApi } from "./agent-api";
import { startSweeper, type Sweeper } from "./jobs/sweeper";
import { startAuditJobs, type AuditJobs } from "./audit-jobs";
import { makeChannels } from "./notify/channels";
import { redactSmtpUrl } from "./notify/email";
import { startDispatcher, type Dispatcher, type DispatcherOptions } from "./notify/dispatcher";
import type { NotifyConfig } from "./notify/types";
import { createInProcessChangeFeed, type ChangeFeed } from "./change-feed";
import { CHANNEL, createPostgresChangeFeed } from "./change-feed-pg";
import { openDatabase, type DbHandle } from "./db/connect";
import { migrateToLatest } from "./db/migrations";
import type { ServerEnv } from "./env";
import { createEventsExport, EXPORT_EVENTS_PATH } from "./export-events";
import { sendError } from "./http-util";
import { isServiceWorkerRequest, serveServiceWorker } from "./service-worker-file";
import { appRouter } from "./routers";
import type { ServiceContext } from "./services/context";
import { createUser, hasAnyUser } from "./services/users";
import { loadOrCreateSigningKey } from "./signing-key";
import { createRequestContext } from "./trpc";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_BUNDLE_VALIDITY = "7d";

export type RunningServer = {
  server: Server;
  url: string;
  services: ServiceContext;
  /** The audit trail's background work: SIEM forwarders and retention. */
  audit: AuditJobs;
  /** The expiry sweeper (requests): tests call sweepNow() after moving the clock. */
  sweeper: Sweeper;
  /** Notifications (webhooks, email, push): tests call dispatchNow(). */
  notifier: Dispatcher;
  /** Stops accepting, lets in-flight requests finish (long-polls answer at once), closes the database. */
  close: () => Promise<void>;
};

export type StartOptions = {
  /** Serve the console through Next.js (off in integration tests, which need only the APIs). */
  withNext: boolean;
  now?: () => Date;
  log?: Logger;
  /** For tests: bundles valid this long (default 7 days). */
  bundleValidityMs?: number;
  /** For tests: the notification dispatcher's retry timing and clock. */
  notify?: DispatcherOptions;
};

export function notifyConfigOf(env: ServerEnv): NotifyConfig {
  return { publicUrl: env.publicUrl, smtpUrl: env.smtpUrl ?? null, mailFrom: env.mailFrom ?? "JIT Access <jit@localhost>", allowLoopbackHttp: env.notifyAllowLoopbackHttp ?? false, vapidSubject: env.vapidSubject };
}

export async function openServices(
  env: ServerEnv,
  opts: { now?: () => Date; log: Logger; bundleValidityMs?: number },
): Promise<{ services: ServiceContext; handle: DbHandle; closeFeed: () => Promise<void> }> {
  const handle = openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir, pgPoolMax: env.pgPoolMax });
  let closeFeed = async () => {};
  try {
    await migrateToLatest(handle.db);
    const signingKey = await loadOrCreateSigningKey(handle.db, handle.dialect, env.dataDir);
    let feed: ChangeFeed = createInProcessChangeFeed();
    if (handle.dialect === "postgres" && env.databaseUrl) {
      // Several servers may share this database: changes reach the others through LISTEN/NOTIFY.
      const pgFeed = createPostgresChangeFeed({
        connectionString: env.databaseUrl,
        publish: (payload) => sql`select pg_notify(${CHANNEL}, ${payload})`.execute(handle.db),
        log: opts.log,
      });
      await pgFeed.ready;
      feed = pgFeed;
      closeFeed = pgFeed.close;
    }
    const services: ServiceContext = {
      db: handle.db,
      dialect: handle.dialect,
      now: opts.now ?? (() => new Date()),
      feed,
      signingKey,
      log: opts.log,
      bundleValidityMs: opts.bundleValidityMs ?? durationMs(DEFAULT_BUNDLE_VALIDITY)!,
    };
    return { services, handle, closeFeed };
  } catch (e) {
    await closeFeed();
    await handle.db.destroy();
    throw e;
  }
}

export async function startServer(env: ServerEnv, opts: StartOptions): Promise<RunningServer> {
  const log = opts.log ?? pino({ level: env.logLevel, base: { service: "jit-server" } });
  const { services, handle, closeFeed } = await openServices(env, { now: opts.now, log, bundleValidityMs: opts.bundleValidityMs });

  if (env.admin && !(await hasAnyUser(services))) {
    await createUser(services, { email: env.admin.email, password: env.admin.password, role: "owner" }, { onlyIfNone: true, actor: null });
    log.info({ email: env.admin.email.toLowerCase() }, "created the owner account from ADMIN_EMAIL");
  }

  const shutdown = new AbortController();
  // Every parked long-poll (bundle, request wait) listens on it: thousands of listeners are expected.
  setMaxListeners(0, shutdown.signal);
  const agentApi = createAgentApi({ services, shutdown: shutdown.signal });
  const exportEvents = createEventsExport({ services, publicUrl: env.publicUrl });
  const audit = startAuditJobs(services, { dataDir: env.dataDir, auditFile: env.auditFile, auditSyslog: env.auditSyslog, verifyEveryMs: env.auditVerifyEveryMs }, log);
  // Ends grants and lapses requests on time; its first sweep catches up on what fell due while the server was down.
  const sweeper = startSweeper(services);
  // Tails the audit trail into webhooks, email and push; never on the request path.
  const notifyConfig = notifyConfigOf(env);
  const notifier = await startDispatcher(services, makeChannels(notifyConfig), notifyConfig, opts.notify);
  log.info({ email: notifyConfig.smtpUrl ? redactSmtpUrl(notifyConfig.smtpUrl) : "off", channels: notifier.channels.map((c) => c.name) }, "notifications");
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    createContext: ({ req, res }) => createRequestContext({ services, publicUrl: env.publicUrl }, req, res),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") log.error({ path, err: error.cause ?? error }, "tRPC error");
    },
  });

  let nextHandler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | null = null;
  let nextApp: { close?: () => Promise<void> } | null = null;
  if (opts.withNext) {
    const { default: next } = await import("next");
    const app = next({ dev: env.dev, dir: PROJECT_ROOT, hostname: env.host, port: env.port });
    await app.prepare();
    const handler = app.getRequestHandler();
    nextHandler = (req, res) => handler(req, res);
    nextApp = app as unknown as { close?: () => Promise<void> };
  }

  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (url.startsWith("/api/trpc/") || url === "/api/trpc") {
      // Answers carry a person's data: never kept in the browser's HTTP cache (nor written to its disk).
      res.setHeader("Cache-Control", "no-store");
      trpc(req, res);
    } else if (url.startsWith(`${AGENT_PROTOCOL_BASE}/`)) {
      void agentApi(req, res);
    } else if (url === EXPORT_EVENTS_PATH || url.startsWith(`${EXPORT_EVENTS_PATH}?`)) {
      void exportEvents(req, res);
    } else if (nextHandler && isServiceWorkerRequest(url)) {
      const next = nextHandler;
      serveServiceWorker(PROJECT_ROOT, env.dev, req, res)
        .then((served) => (served ? undefined : next(req, res)))
        .catch((err: unknown) => {
          log.error({ err, url }, "service worker request failed");
          sendError(res, 500, "internal", "The console failed to answer; it was logged.");
        });
    } else if (nextHandler) {
      nextHandler(req, res).catch((err: unknown) => {
        log.error({ err, url }, "console request failed");
        sendError(res, 500, "internal", "The console failed to answer; it was logged.");
      });
    } else {
      sendError(res, 404, "not_found", "Not found.");
    }
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(env.port, env.host, () => {
      server.off("error", reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.port;
  const shownHost = env.host === "0.0.0.0" || env.host === "::" ? "localhost" : env.host;
  const url = `http://${shownHost}:${port}`;

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      shutdown.abort();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(force);
      await nextApp?.close?.().catch(() => {});
      await sweeper.stop();
      await notifier.stop();
      await audit.stop();
      await closeFeed();
      await handle.db.destroy();
    })());

  return { server, url, services, audit, sweeper, notifier, close };
}
