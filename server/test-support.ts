// Test support: a real server on a fresh database (SQLite in a temp dir, or with TEST_DB=postgres a new
// PostgreSQL database on 127.0.0.1:5432 that is dropped afterwards), and a real tRPC client for it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import pg from "pg";
import pino from "pino";
import { startServer, type RunningServer } from "./app";
import type { ServerEnv } from "./env";
import type { AppRouter } from "./routers";

export const TEST_DB = process.env.TEST_DB === "postgres" ? "postgres" : "sqlite";
const PG_ADMIN_URL = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type TestServer = RunningServer & { dataDir: string; databaseUrl: string | null; stop: () => Promise<void> };

/** A new, empty PostgreSQL database on the test server, and how to drop it. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `jit_test_${Date.now()}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function startTestServer(
  opts: { now?: () => Date; admin?: { email: string; password: string }; bundleValidityMs?: number; shareDatabaseOf?: TestServer; env?: Partial<Pick<ServerEnv, "auditFile" | "auditSyslog" | "pgPoolMax">> } = {},
): Promise<TestServer & { databaseUrl: string | null }> {
  const dataDir = mkdtempSync(join(tmpdir(), "jit-test-"));
  // A second server on the first one's PostgreSQL database (several servers, one database); the first one drops it.
  const pgDb = opts.shareDatabaseOf ? { url: opts.shareDatabaseOf.databaseUrl!, drop: async () => {} } : TEST_DB === "postgres" ? await freshPostgres() : null;
  const env: ServerEnv = {
    port: 0,
    host: "127.0.0.1",
    dataDir,
    databaseUrl: pgDb?.url ?? null,
    publicUrl: null,
    admin: opts.admin ?? null,
    pgPoolMax: 5,
    logLevel: "silent",
    dev: false,
    ...opts.env,
  };
  const running = await startServer(env, { withNext: false, now: opts.now, log: pino({ level: "silent" }), bundleValidityMs: opts.bundleValidityMs });
  return {
    ...running,
    dataDir,
    databaseUrl: pgDb?.url ?? null,
    stop: async () => {
      await running.close();
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function apiClient(baseUrl: string, token?: string, headers: Record<string, string> = {}) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${baseUrl}/api/trpc`, headers: () => ({ ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) }) })],
  });
}

/** Signs in through the API as jit-ctl does, returning a client that carries the session. */
export async function signedInClient(baseUrl: string, email: string, password: string) {
  const { token } = await apiClient(baseUrl).auth.createCliSession.mutate({ email, password });
  return { client: apiClient(baseUrl, token), token };
}

export function trpcCode(e: unknown): string | undefined {
  return e instanceof TRPCClientError ? (e.data as { code?: string } | undefined)?.code : undefined;
}
