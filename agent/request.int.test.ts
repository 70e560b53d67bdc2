// jit-agent request / requests / cancel / done and check's request hint, as real processes against a real server
// (SQLite, or PostgreSQL with TEST_DB=postgres); the queue while the server cannot be reached, flushed by `run`.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, setUpOwner, signedInClient, startTestServer, TEST_DB, TEST_OWNER, type TestServer } from "../server/test-support";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OWNER = TEST_OWNER;

type Run = { code: number | null; stdout: string; stderr: string };
function agent(args: string[], stateDir: string): Promise<Run> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(ROOT, "bin", "jit-agent.mjs"), ...args, "--state-dir", stateDir], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.once("error", rej);
    p.once("exit", (code) => res({ code, stdout, stderr }));
    p.stdin.end("");
  });
}

function ctl(args: string[], token: string): Promise<Run> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(ROOT, "bin", "jit-ctl.mjs"), ...args, "--server", srv.url], { cwd: ROOT, env: { ...process.env, JIT_TOKEN: token, XDG_CONFIG_HOME: dir }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.once("error", rej);
    p.once("exit", (code) => res({ code, stdout, stderr }));
  });
}

async function until<T>(fn: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

let srv: TestServer;
let owner: ReturnType<typeof apiClient>;
let dir: string;
let state: string;
let tool: string;

beforeAll(async () => {
  srv = await startTestServer();
  owner = (await setUpOwner(srv.url)).client;
  dir = mkdtempSync(join(tmpdir(), "jit-agent-req-"));
  state = join(dir, "state");
  tool = join(dir, "deploy-tool");
  writeFileSync(tool, "#!/bin/sh\necho deploy\n");
  chmodSync(tool, 0o755);
  const { token } = await owner.computers.createEnrollmentToken.mutate();
  const e = await agent(["enroll", "--server", srv.url, "--token", token, "--name", "build-01"], state);
  expect(e.code, e.stderr).toBe(0);
  expect((await agent(["sync"], state)).code).toBe(0);
});
afterAll(async () => {
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe(`jit-agent requests on ${TEST_DB}`, () => {
  it("check says how to ask; request --wait returns approved and check allows; revoke and done end it", async () => {
    const denied = await agent(["check", "--user", "alice", "--path", tool, "--json"], state);
    expect(denied.code).toBe(3);
    const dj = JSON.parse(denied.stdout);
    expect(dj).toMatchObject({ allowed: false, canRequest: true, maxDuration: "8h" });
    expect(dj.requestCommand).toBe(`jit-agent request --user alice --path ${tool} --duration 30m --reason '…'`);
    expect((await agent(["check", "--user", "alice", "--path", tool], state)).stdout).toContain(`You may request elevation (up to 8h): jit-agent request --user alice`);

    const waiting = agent(["request", "--user", "alice", "--path", tool, "--duration", "30m", "--reason", "deploy the hotfix now", "--wait", "--json"], state);
    const pending = await until(async () => (await owner.requests.list.query({ status: "pending" })).requests[0]);
    expect(pending).toMatchObject({ user: "alice", requestedDuration: "30m", justification: "deploy the hotfix now", computer: { name: "build-01" } });
    expect(pending.app.path).toBe(tool);
    await owner.requests.approve.mutate({ id: pending.id, duration: "15m" });
    const done = await waiting;
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ id: pending.id, status: "approved", grantedDuration: "15m" });
    const allowed = await agent(["check", "--user", "alice", "--path", tool, "--json"], state);
    expect(allowed.code, allowed.stdout).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ allowed: true, canRequest: false, source: { type: "grant" } });

    const list = await agent(["requests", "--user", "alice", "--json"], state);
    expect(JSON.parse(list.stdout).requests.map((r: { id: string }) => r.id)).toEqual([pending.id]);

    const ended = await agent(["done", pending.id], state);
    expect(ended.code, ended.stderr).toBe(0);
    expect((await agent(["check", "--user", "alice", "--path", tool], state)).code).toBe(3);
    expect((await owner.requests.get.query({ id: pending.id })).revokedBy).toMatchObject({ type: "enduser", name: "alice" });
  });

  it("submits without waiting, cancels, and refuses what the bundle says is too long", async () => {
    const r = await agent(["request", "--user", "bob", "--path", tool, "--duration", "1h", "--reason", "rotate the build keys", "--json"], state);
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v.status).toBe("pending");
    const c = await agent(["cancel", v.id], state);
    expect(c.code, c.stderr).toBe(0);
    expect((await owner.requests.get.query({ id: v.id })).status).toBe("cancelled");
    const long = await agent(["request", "--user", "bob", "--path", tool, "--duration", "9h", "--reason", "rotate the build keys"], state);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain("longer than the maximum of 8 hours");
    const noReason = await agent(["request", "--user", "bob", "--path", tool, "--duration", "1h"], state);
    expect(noReason.code).toBe(2);
  });

  it("queues a request while the server cannot be reached; the daemon sends it when it is back", async () => {
    const configPath = join(state, "config.json");
    const config = readFileSync(configPath, "utf8");
    writeFileSync(configPath, config.replace(srv.url, "http://127.0.0.1:9"));
    const q = await agent(["request", "--user", "carol", "--path", tool, "--duration", "30m", "--reason", "patch the database server"], state);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/^Queued: the server cannot be reached/);
    expect(existsSync(join(state, "requests-queue.json"))).toBe(true);
    const offline = await agent(["requests", "--user", "carol", "--json"], state);
    expect(JSON.parse(offline.stdout).queued).toHaveLength(1);
    writeFileSync(configPath, config);

    const daemon = spawn(process.execPath, [join(ROOT, "bin", "jit-agent.mjs"), "run", "--wait", "2", "--state-dir", state], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise((r) => daemon.once("exit", r));
    try {
      const sent = await until(async () => (await owner.requests.list.query({ status: "pending" })).requests.find((r) => r.user === "carol"));
      expect(sent.justification).toBe("patch the database server");
      await until(async () => JSON.parse(readFileSync(join(state, "requests-queue.json"), "utf8")).queued.length === 0);
    } finally {
      daemon.kill("SIGTERM");
      await exited;
    }
  });

  it("jit-ctl lists, approves, declines and revokes; a second decision is told who decided", async () => {
    const { token } = await signedInClient(srv.url, OWNER.email, OWNER.password);
    const a = JSON.parse((await agent(["request", "--user", "dave", "--path", tool, "--duration", "2h", "--reason", "upgrade the toolchain", "--json"], state)).stdout);
    const b = JSON.parse((await agent(["request", "--user", "dave", "--path", tool, "--duration", "1h", "--reason", "upgrade the toolchain", "--json"], state)).stdout);
    const list = await ctl(["requests", "list", "--status", "pending", "--json"], token);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).map((r: { id: string }) => r.id).slice(0, 2)).toEqual([b.id, a.id]);
    expect((await ctl(["requests", "list", "--status", "pending"], token)).stdout).toContain("upgrade the toolchain");
    const approve = await ctl(["requests", "approve", a.id, "--duration", "15m", "--note", "quick one"], token);
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout).toContain(`Request ${a.id} approved for 15 minutes`);
    const again = await ctl(["requests", "decline", a.id, "--reason", "no"], token);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Already approved by owner@example.com");
    expect((await ctl(["requests", "decline", b.id], token)).code).toBe(2);
    expect((await ctl(["requests", "decline", b.id, "--reason", "use staging"], token)).code).toBe(0);
    expect((await ctl(["requests", "revoke", a.id], token)).code).toBe(0);
    expect((await owner.requests.get.query({ id: a.id })).status).toBe("revoked");
    expect((await ctl(["requests", "approve", a.id, "--duration", "1d"], token)).code).not.toBe(0);
  });
});
