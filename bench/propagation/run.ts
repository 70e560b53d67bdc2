// bench/propagation: how fast an approval reaches the computer. N simulated agents (N long-polls in this
// process, each verifying the signed bundle it receives) against one server in its own process; each agent's
// user has a pending request; we approve them one after another and time, for each, from the approve call's
// return (and from its start) to that agent holding a verified bundle carrying the grant. Also the server's
// memory (RSS) idle and while holding N long-polls. `BENCH_N=100,1000` to choose N.
import { spawn, type ChildProcess } from "node:child_process";
import { createPublicKey, verify as edVerify } from "node:crypto";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { createTRPCClient, httpLink } from "@trpc/client";
import type { AppRouter } from "../../server/routers";
import { holdBundles, pct, pool, rssMb, simAgent, type SimAgent } from "../sim-agents";

const ROOT = resolve(import.meta.dirname, "..", "..");
const SHA = "e".repeat(64);
const Ns = (process.env.BENCH_N ?? "100,1000").split(",").map(Number);

// Node's fetch pools connections per origin without a limit, so N parked long-polls get N sockets.

async function startServerProcess(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [join(ROOT, "bin", "tsx-run.mjs"), join(ROOT, "bench", "propagation", "server.ts")], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((res, rej) => {
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /READY (\S+)/.exec(buf);
      if (m) res(m[1]!);
    });
    proc.once("exit", (c) => rej(new Error(`server exited ${c}`)));
  });
  return { url, proc };
}


async function runOnce(n: number) {
  const { url, proc } = await startServerProcess();
  const pid = proc.pid!;
  const rssStart = rssMb(pid);
  const { token: session } = await createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/api/trpc` })] }).auth.createCliSession.mutate({ email: "bench@example.com", password: "bench password long enough" });
  const admin = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/api/trpc`, headers: { authorization: `Bearer ${session}` } })] });

  // Enroll N computers and submit one request each.
  const agents: SimAgent[] = [];
  let publicKey = "";
  await pool(Array.from({ length: n }, (_, i) => i), 16, async (i) => {
    const { token } = await admin.computers.createEnrollmentToken.mutate();
    const r = await fetch(`${url}/agent/v1/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token, name: `bench-${String(i).padStart(5, "0")}`, os: "bench", agentVersion: "bench" }) });
    const body = (await r.json()) as { computer: { id: string }; agentToken: string; publicKey: string };
    publicKey = body.publicKey;
    agents.push(simAgent(i, body.computer.id, body.agentToken, url));
  });
  const key = createPublicKey(publicKey);
  const verify = (msg: Uint8Array, sig: Uint8Array) => edVerify(null, msg, key, sig);
  await pool(agents, 16, async (a) => {
    const r = await fetch(`${url}/agent/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
      body: JSON.stringify({ user: `user${a.i}`, app: { path: "/usr/bin/tool", sha256: SHA }, duration: "30m", justification: "benchmark propagation" }),
    });
    a.requestId = ((await r.json()) as { id: string }).id;
  });
  const rssEnrolled = rssMb(pid);

  // N long-polls: each agent holds the newest bundle and asks again at once.
  const hold = holdBundles(agents, verify);
  // Let every agent take its first bundle and park its long-poll.
  await hold.ready;
  await new Promise((r) => setTimeout(r, 500));
  let rssPeak = rssMb(pid);
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(pid))), 100);

  // Phase 1: one approver, one approval after another. Phase 2: 8 approvers at once (a second request per agent).
  async function phase(width: number, ids: Map<SimAgent, string>) {
    const fromReturn: number[] = [];
    const fromStart: number[] = [];
    let beforeReturn = 0;
    const t0 = performance.now();
    await pool([...ids.keys()], width, async (a) => {
      const id = ids.get(a)!;
      const held = a.got.has(id) ? Promise.resolve(a.got.get(id)!) : new Promise<number>((res) => a.waiters.set(id, res));
      const start = performance.now();
      await admin.requests.approve.mutate({ id });
      const returned = performance.now();
      const at = await Promise.race([held, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`agent ${a.i} did not get its grant in 10 s`)), 10_000))]);
      if (at < returned) beforeReturn++;
      fromReturn.push(Math.max(0, at - returned));
      fromStart.push(at - start);
    });
    const seconds = (performance.now() - t0) / 1000;
    fromReturn.sort((x, y) => x - y);
    fromStart.sort((x, y) => x - y);
    const f = (v: number) => v.toFixed(1);
    return {
      approvals: fromReturn.length,
      p50: f(pct(fromReturn, 50)),
      p95: f(pct(fromReturn, 95)),
      p99: f(pct(fromReturn, 99)),
      max: f(fromReturn.at(-1)!),
      startP50: f(pct(fromStart, 50)),
      startP95: f(pct(fromStart, 95)),
      startP99: f(pct(fromStart, 99)),
      beforeReturn,
      approvalsPerSecond: (fromReturn.length / seconds).toFixed(0),
    };
  }
  const sequential = await phase(1, new Map(agents.map((a) => [a, a.requestId!])));
  const second = new Map<SimAgent, string>();
  await pool(agents, 16, async (a) => {
    const r = await fetch(`${url}/agent/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
      body: JSON.stringify({ user: `user${a.i}`, app: { path: "/usr/bin/other", sha256: "f".repeat(64) }, duration: "30m", justification: "benchmark propagation" }),
    });
    second.set(a, ((await r.json()) as { id: string }).id);
  });
  const concurrent = await phase(8, second);
  clearInterval(sampler);
  const rssHolding = rssMb(pid);
  const stopped = hold.stop();
  proc.kill("SIGTERM");
  await stopped;
  await new Promise((r) => proc.once("exit", r));

  return {
    n,
    sequential,
    concurrent,
    rssStartMb: rssStart,
    rssEnrolledMb: rssEnrolled,
    rssHoldingMb: rssHolding,
    rssPeakMb: rssPeak,
  };
}

console.log(`bench/propagation on ${process.version}, ${(await import("node:os")).cpus().length} cores`);
const rows = [];
for (const n of Ns) {
  const r = await runOnce(n);
  rows.push(r);
  console.log(JSON.stringify(r));
}
console.log("\n| N agents | approvers | approvals | from approve return p50 / p95 / p99 / max (ms) | from approve start p50 / p95 / p99 (ms) | held before return | approvals/s | server RSS idle → enrolled → N polls (peak) |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  for (const [label, p] of [["1", r.sequential], ["8 at once", r.concurrent]] as const) {
    console.log(`| ${r.n} | ${label} | ${p.approvals} | ${p.p50} / ${p.p95} / ${p.p99} / ${p.max} | ${p.startP50} / ${p.startP95} / ${p.startP99} | ${p.beforeReturn} | ${p.approvalsPerSecond} | ${r.rssStartMb} → ${r.rssEnrolledMb} → ${r.rssHoldingMb} MB (${r.rssPeakMb}) |`);
  }
}
process.exit(0);
