// bench/audit: the Events report at 1,000,000 events on SQLite and PostgreSQL, through the real server's tRPC API
// over HTTP: the first page (newest 50), filtered pages (computer + event type; end user; console user; a time
// range; a deep keyset page), p50/p95 over repeated calls; and the streamed export's throughput (events/s) as CSV
// and JSON Lines. The chain is built in bulk with the same hash function as appendEvent, then verified once.
// BENCH_EVENTS=N scales it down; BENCH_DB=sqlite|postgres runs one database only.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import pino from "pino";
import { createTRPCClient, httpLink } from "@trpc/client";
import { canonicalJson } from "../../core/canonical-json";
import type { EventType } from "../../core/events";
import { openDatabase } from "../../server/db/connect";
import { migrateToLatest } from "../../server/db/migrations";
import { startServer } from "../../server/app";
import type { ServerEnv } from "../../server/env";
import type { AppRouter } from "../../server/routers";
import { verifyChain } from "../../server/services/audit";
import { eventHash, GENESIS_HASH, justificationOf } from "../../server/services/events";

const N = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const DBS = (process.env.BENCH_DB ? [process.env.BENCH_DB] : ["sqlite", "postgres"]) as ("sqlite" | "postgres")[];
const REPS = 40;
const OWNER = { email: "bench@example.com", password: "bench password 123" };
const T0 = Date.parse("2025-01-01T00:00:00Z");
const COMPUTERS = Array.from({ length: 200 }, (_, i) => ({ id: `c-${String(i).padStart(4, "0")}-${randomUUID().slice(0, 8)}`, name: `pc-${i}` }));
const POLICIES = Array.from({ length: 100 }, () => randomUUID());
const ADMINS = Array.from({ length: 10 }, (_, i) => ({ id: randomUUID(), email: `admin${i}@example.com` }));
const WORDS = ["build", "deploy", "patch", "driver", "printer", "vpn", "database", "migration", "hotfix", "license", "install", "update"];

/** A plausible mix: mostly agent reports, some requests with justifications, some console work. */
function eventAt(i: number) {
  const r = (i * 2654435761) % 1000;
  const computer = COMPUTERS[i % COMPUTERS.length]!;
  const user = `user${(i * 7) % 2000}`;
  const policyId = POLICIES[i % POLICIES.length]!;
  let type: EventType;
  let detail: Record<string, unknown>;
  let actor: { type: string; id: string | null; name: string | null } = { type: "computer", id: computer.id, name: computer.name };
  let endUser: string | null = user;
  let pol: string | null = null;
  let req: string | null = null;
  if (r < 600) {
    type = "agent.elevation_allowed";
    pol = policyId;
    detail = { app: { path: `/opt/tools/t${i % 500}`, sha256: null, clsid: null }, source: { type: "policy", id: policyId, name: `Policy ${i % 100}` }, occurredAt: new Date(T0 + i * 1000).toISOString() };
  } else if (r < 800) {
    type = "agent.elevation_denied";
    detail = { app: { path: `/usr/bin/x${i % 300}`, sha256: null, clsid: null }, reason: "no policy or grant allows it", occurredAt: new Date(T0 + i * 1000).toISOString() };
  } else if (r < 900) {
    type = "request.submitted";
    req = `r-${i}`;
    detail = { justification: `Need to ${WORDS[i % WORDS.length]} the ${WORDS[(i >> 3) % WORDS.length]} for ticket ${i}`, duration: "1h" };
  } else if (r < 950) {
    type = "request.approved";
    req = `r-${i - 1}`;
    const a = ADMINS[i % ADMINS.length]!;
    actor = { type: "user", id: a.id, name: a.email };
    detail = { duration: "1h" };
  } else {
    const a = ADMINS[i % ADMINS.length]!;
    actor = { type: "user", id: a.id, name: a.email };
    endUser = null;
    type = r < 975 ? "policy.edited" : "console.sign_in";
    pol = type === "policy.edited" ? policyId : null;
    detail = type === "policy.edited" ? { revision: 2, diff: { users: { old: ["a"], new: ["a", "b"] } } } : { address: "10.0.0.1" };
  }
  return { type, detail, actor, endUser, policyId: pol, requestId: req, computerId: actor.type === "computer" || type.startsWith("request.") ? computer.id : null };
}

async function freshPostgres() {
  const name = `jit_bench_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/postgres" });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/postgres" });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function time<T>(fn: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function benchDb(kind: "sqlite" | "postgres") {
  const dataDir = mkdtempSync(join(tmpdir(), "jit-bench-audit-"));
  const pgDb = kind === "postgres" ? await freshPostgres() : null;
  try {
    // 1. Fill: the chain built in bulk, in batches, with appendEvent's own hash.
    const h = openDatabase({ databaseUrl: pgDb?.url ?? null, dataDir });
    await migrateToLatest(h.db);
    const tFill = performance.now();
    let prev = GENESIS_HASH;
    const BATCH = 1000;
    for (let start = 0; start < N; start += BATCH) {
      const rows = [];
      for (let i = start; i < Math.min(N, start + BATCH); i++) {
        const e = eventAt(i);
        const row = {
          seq: i + 1,
          id: randomUUID(),
          at: new Date(T0 + i * 1000).toISOString(),
          type: e.type,
          actor_type: e.actor.type,
          actor_id: e.actor.id,
          actor_name: e.actor.name,
          policy_id: e.policyId,
          computer_id: e.computerId,
          request_id: e.requestId,
          detail: canonicalJson(e.detail),
          prev_hash: prev,
          end_user: e.endUser,
        };
        const hash = eventHash(row);
        rows.push({ ...row, hash, justification: justificationOf(row.detail) });
        prev = hash;
      }
      await h.db.insertInto("events").values(rows).execute();
    }
    const fillS = (performance.now() - tFill) / 1000;
    if (kind === "postgres") await h.db.executeQuery({ sql: "analyze events", parameters: [], query: { kind: "RawNode" } as never } as never).catch(() => {});
    await h.db.destroy();

    // 2. The real server on that database.
    const env: ServerEnv = { port: 0, host: "127.0.0.1", dataDir, databaseUrl: pgDb?.url ?? null, publicUrl: null, admin: OWNER, pgPoolMax: 10, logLevel: "silent", dev: false };
    const srv = await startServer(env, { withNext: false, log: pino({ level: "silent" }) });
    try {
      const anon = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${srv.url}/api/trpc` })] });
      const { token } = await anon.auth.createCliSession.mutate(OWNER);
      const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${srv.url}/api/trpc`, headers: { authorization: `Bearer ${token}` } })] });
      const computer = COMPUTERS[17]!;
      const cases: [string, () => Promise<unknown>][] = [
        ["first page (newest 50)", () => client.events.list.query({ limit: 50 })],
        ["computer + event type", () => client.events.list.query({ limit: 50, filter: { computerId: computer.id, types: ["agent.elevation_denied"] } })],
        ["end user", () => client.events.list.query({ limit: 50, filter: { endUser: "user1234" } })],
        ["console user", () => client.events.list.query({ limit: 50, filter: { consoleUser: "admin3@example.com" } })],
        ["policy", () => client.events.list.query({ limit: 50, filter: { policyId: POLICIES[42] } })],
        ["time range (one day, mid-history)", () => client.events.list.query({ limit: 50, filter: { from: new Date(T0 + (N / 2) * 1000).toISOString(), to: new Date(T0 + (N / 2) * 1000 + 86_400_000).toISOString() } })],
        ["deep keyset page (before seq N/2)", () => client.events.list.query({ limit: 50, before: Math.floor(N / 2) })],
        ["justification text (1 word)", () => client.events.list.query({ limit: 50, filter: { text: "printer" } })],
      ];
      const results: { name: string; p50: number; p95: number; n: number }[] = [];
      for (const [name, fn] of cases) {
        await fn();
        const ts: number[] = [];
        let n = 0;
        for (let i = 0; i < REPS; i++) {
          const t = performance.now();
          const r = (await fn()) as { events: unknown[] };
          ts.push(performance.now() - t);
          n = r.events.length;
        }
        results.push({ name, p50: pct(ts, 50), p95: pct(ts, 95), n });
      }

      // 3. Export throughput: the whole trail, streamed.
      const exports: { format: string; events: number; seconds: number; mb: number; rssMb: number }[] = [];
      for (const format of ["csv", "jsonl"]) {
        const t = performance.now();
        const res = await fetch(`${srv.url}/api/export/events?format=${format}`, { headers: { authorization: `Bearer ${token}` } });
        let bytes = 0;
        let lines = 0;
        let peakRss = 0;
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          bytes += value.length;
          for (const b of value) if (b === 10) lines++;
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
        }
        const seconds = (performance.now() - t) / 1000;
        exports.push({ format, events: format === "csv" ? lines - 1 : lines, seconds, mb: bytes / 1e6, rssMb: peakRss / 1e6 });
      }

      const tv = performance.now();
      const v = await verifyChain(srv.services, { record: false });
      const verifyS = (performance.now() - tv) / 1000;

      console.log(`\n--- ${kind}: ${N.toLocaleString("en")} events (bulk fill ${fillS.toFixed(1)} s)`);
      for (const r of results) console.log(`${r.name.padEnd(36)} p50 ${r.p50.toFixed(1).padStart(7)} ms   p95 ${r.p95.toFixed(1).padStart(7)} ms   (${r.n} rows) ${r.p95 < 100 ? "ok" : "OVER 100 ms"}`);
      for (const e of exports) console.log(`export ${e.format.padEnd(5)} ${e.events.toLocaleString("en")} events in ${e.seconds.toFixed(1)} s = ${Math.round(e.events / e.seconds).toLocaleString("en")} events/s (${e.mb.toFixed(0)} MB; bench process rss ${e.rssMb.toFixed(0)} MB)`);
      console.log(`verify: ${v.ok ? "intact" : `BROKEN at ${v.badSeq}`}, ${v.checked.toLocaleString("en")} events in ${verifyS.toFixed(1)} s`);
      return results.every((r) => r.name.startsWith("justification") || r.p95 < 100);
    } finally {
      await srv.close();
    }
  } finally {
    await pgDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(`bench/audit on ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`);
let ok = true;
for (const kind of DBS) ok = (await benchDb(kind)) && ok;
process.exit(ok ? 0 : 1);
