// Losing a server loses nothing: two real server processes on one PostgreSQL database, real `jit-agent run` daemons
// enrolled with both. Server A is killed (SIGKILL) while its agents long-poll it; they move to B within their back-off
// bound, a revoke made on B right after reaches them, and every event and request acknowledged before the kill is kept.
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { enqueueEvent, queueLength } from "../agent/events-queue";
import { enqueue, loadQueue } from "../agent/request-client";
import { StateStore } from "../agent/state";
import { apiClient, freshPostgres, signedInClient, TEST_DB } from "./test-support";

const ROOT = resolve(import.meta.dirname, "..");
const OWNER = { email: "owner@example.com", password: "correct horse battery" };
const AGENTS = 3;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once("exit", () => r()));
}

async function serverProcess(databaseUrl: string, port = 0): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [join(ROOT, "bin", "tsx-run.mjs"), join(ROOT, "server", "api-server-process.ts")], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PG_POOL_MAX: "4", LOG_LEVEL: "silent", PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await exited(proc);
  });
  let out = "";
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${out}`)), 30_000);
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    proc.once("exit", (c) => rej(new Error(`server exited ${c}:\n${out}`)));
  });
  return { url, proc };
}

function agentCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const proc = spawn(process.execPath, [join(ROOT, "bin", "jit-agent.mjs"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
    proc.once("exit", (code) => res({ code, out }));
  });
}

async function until<T>(what: () => Promise<T | undefined | false>, ms: number, label: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out: ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Agent = { dir: string; store: StateStore; token: string; computerId: string; logs: () => string };

async function grantsOf(agent: Agent): Promise<string[]> {
  const env = (await agent.store.readBundleEnvelope().catch(() => undefined)) as { bundle?: { grants?: { requestId: string }[] } } | undefined;
  return env?.bundle?.grants?.map((g) => g.requestId) ?? [];
}

describe.skipIf(TEST_DB !== "postgres")("fail-over between servers", () => {
  it("moves agents from a killed server to the other within their back-off bound, losing nothing acknowledged", async () => {
    const pgDb = await freshPostgres();
    cleanups.push(pgDb.drop);
    const a = await serverProcess(pgDb.url);
    const b = await serverProcess(pgDb.url);
    await apiClient(a.url).auth.setupOwner.mutate(OWNER);
    const onB = (await signedInClient(b.url, OWNER.email, OWNER.password)).client;

    // Enroll real agents with both servers (A first), and start their daemons: they long-poll A.
    const agents: Agent[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const dir = await fs.mkdtemp(join(tmpdir(), "jit-failover-agent-"));
      cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
      const { token } = await onB.computers.createEnrollmentToken.mutate();
      const enrolled = await agentCli(["enroll", "--server", a.url, "--server", b.url, "--token", token, "--name", `build-${i}`, "--state-dir", dir]);
      expect(enrolled.code, enrolled.out).toBe(0);
      const store = new StateStore(dir);
      const config = (await store.loadConfig())!;
      expect(config.servers).toEqual([a.url, b.url]);
      const proc = spawn(process.execPath, [join(ROOT, "bin", "jit-agent.mjs"), "run", "--wait", "20", "--state-dir", dir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let logs = "";
      proc.stdout.on("data", (d: Buffer) => (logs += d.toString()));
      proc.stderr.on("data", (d: Buffer) => (logs += d.toString()));
      cleanups.push(async () => {
        if (proc.exitCode === null) proc.kill("SIGTERM");
        await exited(proc);
      });
      agents.push({ dir, store, token: config.agentToken, computerId: config.computer.id, logs: () => logs });
    }

    // Each agent's user asks for access; it is approved on B and reaches the agent (through A).
    const requestIds: string[] = [];
    for (const [i, agent] of agents.entries()) {
      const res = await fetch(`${a.url}/agent/v1/requests`, {
        method: "POST",
        headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/json" },
        body: JSON.stringify({ user: `user${i}`, app: { path: "/usr/bin/tool", sha256: "c".repeat(64) }, duration: "1h", justification: "fail-over test access", clientRef: `cr-failover-${i}` }),
      });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as { id: string }).id;
      requestIds.push(id);
      await onB.requests.approve.mutate({ id });
    }
    for (const [i, agent] of agents.entries()) await until(async () => (await grantsOf(agent)).includes(requestIds[i]!), 5_000, "grant reaches the agent");

    // Events reported and acknowledged before the kill.
    const before: string[] = [];
    for (const [i, agent] of agents.entries()) {
      before.push(await enqueueEvent(agent.store, { type: "elevation_allowed", at: new Date().toISOString(), user: `user${i}`, reason: "before the kill" }));
    }
    for (const agent of agents) await until(async () => (await queueLength(agent.store)) === 0, 10_000, "events acknowledged");
    // Let each daemon park its next long-poll on A.
    await new Promise((r) => setTimeout(r, 500));
    for (const agent of agents) expect(agent.logs()).not.toContain("server_failover");

    a.proc.kill("SIGKILL");
    await exited(a.proc);
    const killedAt = Date.now();
    for (const id of requestIds) await onB.requests.revoke.mutate({ id, reason: "fail-over test" });
    const revokedAt = Date.now();
    const reached = await Promise.all(
      agents.map(async (agent, i) => {
        await until(async () => !(await grantsOf(agent)).includes(requestIds[i]!), 10_000, "revoke reaches the agent");
        return Date.now() - revokedAt;
      }),
    );
    console.log(`revoke on B reached the agents ${reached.join(", ")} ms after it was made (${revokedAt - killedAt} ms after the kill)`);
    // The first retry's back-off is at most 1 s; a dead server is left at once, so this is well inside it.
    for (const ms of reached) expect(ms).toBeLessThan(2_000);
    for (const agent of agents) expect(agent.logs()).toContain("server_failover");

    // Events after the kill go to B; nothing is recorded twice, nothing acknowledged before is missing.
    const after: string[] = [];
    for (const [i, agent] of agents.entries()) {
      after.push(await enqueueEvent(agent.store, { type: "elevation_denied", at: new Date().toISOString(), user: `user${i}`, reason: "after the kill" }));
    }
    for (const agent of agents) await until(async () => (await queueLength(agent.store)) === 0, 10_000, "events after the kill acknowledged");
    const pg = await import("pg");
    const client = new pg.default.Client({ connectionString: pgDb.url });
    await client.connect();
    try {
      const rows = (await client.query<{ id: string; n: string }>("select id, count(*) as n from events where id = any($1) group by id", [[...before, ...after]])).rows;
      expect(rows.map((r) => r.id).sort()).toEqual([...before, ...after].sort());
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
      const requests = (await client.query<{ n: string }>("select count(*) as n from requests")).rows[0]!;
      expect(Number(requests.n)).toBe(AGENTS);
      const statuses = (await client.query<{ status: string }>("select status from requests")).rows.map((r) => r.status);
      expect(statuses.every((s) => s === "revoked")).toBe(true);

      // Every server down: a request queued meanwhile goes as soon as one answers again, not after the back-off.
      b.proc.kill("SIGKILL");
      await exited(b.proc);
      await new Promise((r) => setTimeout(r, 3_000));
      await enqueue(agents[0]!.store, { user: "user0", app: { path: "/usr/bin/tool", sha256: "d".repeat(64) }, duration: "30m", justification: "asked while no server answered", clientRef: "cr-after-outage" }, new Date());
      const back = await serverProcess(pgDb.url, Number(new URL(a.url).port));
      expect(back.url).toBe(a.url);
      const backAt = Date.now();
      await until(async () => (await client.query("select id from requests where client_ref = 'cr-after-outage'")).rows.length === 1, 10_000, "queued request sent");
      const sentAfter = Date.now() - backAt;
      console.log(`a request queued while every server was down was sent ${sentAfter} ms after one came back`);
      expect(sentAfter).toBeLessThan(3_000);
      // The server records it before the agent hears back and drops it from its queue file.
      await until(async () => (await loadQueue(agents[0]!.store)).length === 0, 5_000, "queue emptied once the server acknowledged");
      expect(await loadQueue(agents[0]!.store)).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
