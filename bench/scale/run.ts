// bench/scale: two server processes on one PostgreSQL database (this machine, loopback only), N simulated agents
// (long-polls in this process, each verifying the signed bundle it receives) split across them. Measures approval →
// agent latency (approvals made on alternating servers, so half cross servers through LISTEN/NOTIFY), the rate of
// conditional pulls answered 304 and its ratio to a bare Node `http` server answering 304 in the same run, and the
// servers' memory. `BENCH_N=2000` (default) agents, `BENCH_APPROVALS=200`.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, createPublicKey, verify as edVerify } from "node:crypto";
import http from "node:http";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { createTRPCClient, httpLink } from "@trpc/client";
import pg from "pg";
import type { AppRouter } from "../../server/routers";
import { bundleEtag } from "../../core/protocol";
import { holdBundles, pct, pool, rssMb, simAgent, type SimAgent } from "../sim-agents";

const ROOT = resolve(import.meta.dirname, "..", "..");
const N = Number(process.env.BENCH_N ?? 2000);
const APPROVALS = Math.min(N, Number(process.env.BENCH_APPROVALS ?? 200));
const PG_ADMIN = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const ADMIN = { email: "bench@example.com", password: "bench password long enough" };
const SHA = "e".repeat(64);

function startServer(databaseUrl: string, extra: Record<string, string>): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [join(ROOT, "bin", "tsx-run.mjs"), join(ROOT, "server", "api-server-process.ts")], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PG_POOL_MAX: "10", LOG_LEVEL: "silent", HOST: "127.0.0.1", PORT: "0", ...extra },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((res, rej) => {
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /READY (\S+)/.exec(buf);
      if (m) res({ url: m[1]!, proc });
    });
    proc.once("exit", (c) => rej(new Error(`server exited ${c}`)));
  });
}

/** The yardstick: a bare Node http server in its own process that answers every request 304. */
function startBare(): Promise<{ url: string; proc: ChildProcess }> {
  const code = `const s=require("http").createServer((q,r)=>{r.writeHead(304,{etag:'"1"',"cache-control":"no-store"});r.end()});s.keepAliveTimeout=65000;s.listen(0,"127.0.0.1",()=>console.log("READY http://127.0.0.1:"+s.address().port))`;
  const proc = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((res) => {
    proc.stdout!.on("data", (d: Buffer) => {
      const m = /READY (\S+)/.exec(d.toString());
      if (m) res({ url: m[1]!, proc });
    });
  });
}

/** Conditional pulls (wait=0) from `width` keep-alive connections for `ms`: how many 304s per second. */
async function pullRate(targets: { url: string; token: string; version: number }[], width: number, ms: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: width });
  let count = 0;
  let other = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: width }, async (_, w) => {
      let i = w;
      while (performance.now() < end) {
        const t = targets[i++ % targets.length]!;
        const status = await new Promise<number>((res, rej) => {
          const req = http.get(`${t.url}/agent/v1/bundle?wait=0`, { agent, headers: { authorization: `Bearer ${t.token}`, "if-none-match": bundleEtag(t.version), "x-bundle-version": String(t.version) } }, (r) => {
            r.resume();
            r.on("end", () => res(r.statusCode ?? 0));
          });
          req.on("error", rej);
        });
        if (status === 304) count++;
        else other++;
      }
    }),
  );
  agent.destroy();
  if (other > 0) console.error(`(${other} answers were not 304)`);
  return count / (ms / 1000);
}


// ── Setup: a fresh database, two servers ────────────────────────────────────────────────────────────
const dbName = `jit_bench_scale_${randomBytes(4).toString("hex")}`;
const adminDb = new pg.Client({ connectionString: PG_ADMIN });
await adminDb.connect();
await adminDb.query(`create database ${dbName}`);
const dbUrl = new URL(PG_ADMIN);
dbUrl.pathname = `/${dbName}`;
const servers: { url: string; proc: ChildProcess }[] = [];
let bare: { url: string; proc: ChildProcess } | null = null;
try {
  servers.push(await startServer(dbUrl.toString(), { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }));
  servers.push(await startServer(dbUrl.toString(), {}));
  const rssStart = servers.map((s) => rssMb(s.proc.pid!));
  const admins = await Promise.all(
    servers.map(async (s) => {
      const { token } = await createTRPCClient<AppRouter>({ links: [httpLink({ url: `${s.url}/api/trpc` })] }).auth.createCliSession.mutate(ADMIN);
      return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${s.url}/api/trpc`, headers: { authorization: `Bearer ${token}` } })] });
    }),
  );

  // N computers, enrolled half through each server; the first APPROVALS of them ask for access.
  const agents: SimAgent[] = [];
  let publicKey = "";
  const tEnroll = performance.now();
  await pool(Array.from({ length: N }, (_, i) => i), 16, async (i) => {
    const server = servers[i % 2]!;
    const { token } = await admins[i % 2]!.computers.createEnrollmentToken.mutate();
    const r = await fetch(`${server.url}/agent/v1/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token, name: `bench-${String(i).padStart(5, "0")}`, os: "bench", agentVersion: "bench" }) });
    const body = (await r.json()) as { computer: { id: string }; agentToken: string; publicKey: string };
    publicKey = body.publicKey;
    agents.push(simAgent(i, body.computer.id, body.agentToken, server.url));
  });
  const enrollSeconds = (performance.now() - tEnroll) / 1000;
  agents.sort((x, y) => x.i - y.i);
  const key = createPublicKey(publicKey);
  const verify = (msg: Uint8Array, sig: Uint8Array) => edVerify(null, msg, key, sig);
  await pool(agents.slice(0, APPROVALS), 16, async (a) => {
    const r = await fetch(`${a.url}/agent/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
      body: JSON.stringify({ user: `user${a.i}`, app: { path: "/usr/bin/tool", sha256: SHA }, duration: "30m", justification: "benchmark scale" }),
    });
    a.requestId = ((await r.json()) as { id: string }).id;
  });
  const rssEnrolled = servers.map((s) => rssMb(s.proc.pid!));

  // N long-polls, each agent on its own server.
  const hold = holdBundles(agents, verify);
  await hold.ready;
  await new Promise((r) => setTimeout(r, 1_000));
  const rssHolding = servers.map((s) => rssMb(s.proc.pid!));
  let rssPeak = [...rssHolding];
  const sampler = setInterval(() => (rssPeak = servers.map((s, k) => Math.max(rssPeak[k]!, rssMb(s.proc.pid!)))), 100);

  // Approvals one after another, made on alternating servers: half reach an agent on the other server.
  const fromReturn: { ms: number; fromStart: number; cross: boolean }[] = [];
  for (const [k, a] of agents.slice(0, APPROVALS).entries()) {
    const id = a.requestId!;
    const held = new Promise<number>((res) => a.waiters.set(id, res));
    const via = Math.floor(k / 2) % 2;
    const start = performance.now();
    await admins[via]!.requests.approve.mutate({ id });
    const returned = performance.now();
    const at = await Promise.race([held, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`agent ${a.i} did not get its grant in 10 s`)), 10_000))]);
    fromReturn.push({ ms: Math.max(0, at - returned), fromStart: at - start, cross: servers[via]!.url !== a.url });
  }
  clearInterval(sampler);
  const lat = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return `${pct(s, 50).toFixed(1)} / ${pct(s, 95).toFixed(1)} / ${pct(s, 99).toFixed(1)} / ${s.at(-1)!.toFixed(1)}`;
  };

  // Conditional pulls that changed nothing, while the N long-polls stay parked: 304/s against the bare yardstick.
  bare = await startBare();
  const targets = agents.map((a) => ({ url: a.url, token: a.token, version: a.version! }));
  const onA = targets.filter((t) => t.url === servers[0]!.url);
  await pullRate(onA, 32, 1_000); // warm up
  const rateA = await pullRate(onA, 32, 5_000);
  const rateBoth = await pullRate(targets, 64, 5_000);
  const rateBare = await pullRate(targets.map((t) => ({ ...t, url: bare!.url })), 32, 5_000);
  const rssEnd = servers.map((s) => rssMb(s.proc.pid!));

  await hold.stop();

  const cross = fromReturn.filter((x) => x.cross).map((x) => x.fromStart);
  const same = fromReturn.filter((x) => !x.cross).map((x) => x.fromStart);
  const mem = (xs: number[]) => xs.join(" + ") + " MB";
  console.log(`bench/scale on ${process.version}, ${cpus().length} cores: ${N} agents on 2 servers, PostgreSQL on loopback`);
  console.log(`enrolled ${N} computers in ${enrollSeconds.toFixed(1)} s`);
  console.log("\n| measure | value |");
  console.log("| --- | --- |");
  console.log(`| approval → agent, all ${fromReturn.length} (p50 / p95 / p99 / max, ms from the approve call's return) | ${lat(fromReturn.map((x) => x.ms))} |`);
  console.log(`| approval → agent, all (ms from the approve call's start) | ${lat(fromReturn.map((x) => x.fromStart))} |`);
  console.log(`| — agent on the other server (${cross.length}), from start | ${lat(cross)} |`);
  console.log(`| — agent on the same server (${same.length}), from start | ${lat(same)} |`);
  console.log(`| conditional pulls answered 304, one server (32 connections) | ${rateA.toFixed(0)}/s |`);
  console.log(`| conditional pulls answered 304, both servers (64 connections) | ${rateBoth.toFixed(0)}/s |`);
  console.log(`| bare Node http answering 304 (32 connections) | ${rateBare.toFixed(0)}/s |`);
  console.log(`| ratio one server / bare | ${(rateA / rateBare).toFixed(2)} |`);
  console.log(`| server RSS idle (A + B) | ${mem(rssStart)} |`);
  console.log(`| server RSS enrolled | ${mem(rssEnrolled)} |`);
  console.log(`| server RSS holding ${N} long-polls | ${mem(rssHolding)} (peak during approvals ${mem(rssPeak)}) |`);
  console.log(`| server RSS after the pull phase | ${mem(rssEnd)} |`);
} finally {
  for (const s of servers) s.proc.kill("SIGTERM");
  bare?.proc.kill("SIGTERM");
  await Promise.all([...servers, ...(bare ? [bare] : [])].map((s) => (s.proc.exitCode !== null ? null : new Promise((r) => s.proc.once("exit", r)))));
  await adminDb.query(`drop database if exists ${dbName} with (force)`);
  await adminDb.end();
}
process.exit(0);
