// Test support: a real server on a fresh database (SQLite in a temp dir, or with TEST_DB=postgres a new
// PostgreSQL database on 127.0.0.1:5432 that is dropped afterwards), and a real tRPC client for it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import pg from "pg";
import pino from "pino";
import { startServer, type RunningServer, type StartOptions } from "./app";
import type { PolicyFileInput } from "../core/policy";
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
  opts: { now?: () => Date; admin?: { email: string; password: string }; bundleValidityMs?: number; shareDatabaseOf?: TestServer; env?: Partial<Pick<ServerEnv, "auditFile" | "auditSyslog" | "pgPoolMax" | "publicUrl" | "smtpUrl" | "mailFrom" | "notifyAllowLoopbackHttp" | "auditVerifyEveryMs" | "vapidSubject">>;
    /** The notification dispatcher's timing (short back-off in tests). */
    notify?: StartOptions["notify"];
  } = {},
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
  const running = await startServer(env, { withNext: false, now: opts.now, log: pino({ level: "silent" }), bundleValidityMs: opts.bundleValidityMs, notify: opts.notify });
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

/** The first console user every integration test sets up. */
export const TEST_OWNER = { email: "owner@example.com", password: "correct horse battery" };

/** Sets up the owner on a fresh server and signs in as them. */
export async function setUpOwner(baseUrl: string) {
  await apiClient(baseUrl).auth.setupOwner.mutate(TEST_OWNER);
  return signedInClient(baseUrl, TEST_OWNER.email, TEST_OWNER.password);
}

export type EnrolledComputer = { computer: { id: string; name: string }; agentToken: string; publicKey: string; /** The used one-time token. */ enrollmentToken: string };

/** Enrolls a computer through the agent protocol with a fresh token, as `jit-agent enroll` does. */
export async function enrollComputer(baseUrl: string, admin: ReturnType<typeof apiClient>, name = "build-01"): Promise<EnrolledComputer> {
  const { token } = await admin.computers.createEnrollmentToken.mutate();
  const res = await fetch(`${baseUrl}/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, name, os: "linux test", agentVersion: "0.1.0" }),
  });
  if (res.status !== 200) throw new Error(`enrolling ${name} answered ${res.status}: ${await res.text()}`);
  return { ...((await res.json()) as Omit<EnrolledComputer, "enrollmentToken">), enrollmentToken: token };
}

/** A policy file for tests: build-01, alice, two hours Fixed, one file hash, deployed. */
export const testPolicy = (over: Partial<PolicyFileInput> = {}, sha256 = "a".repeat(64)): PolicyFileInput => ({
  name: "Build tools",
  computers: ["build-01"],
  users: ["alice"],
  duration: { type: "fixed", length: "2h" },
  applications: [{ type: "fileHash", sha256 }],
  deploy: true,
  ...over,
});
