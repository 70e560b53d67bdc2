// bench/sync: how long a fresh console (a new browser profile, just signed in) takes to replicate 10,000 requests and
// 1,000 policies from a real server into its RxDB store (IndexedDB through Dexie) and render the Requests page,
// against the floor: writing the same documents straight into IndexedDB in the same browser. Also the first-load
// JS of the Requests page from `next build` (the gzipped scripts its prerendered HTML references). The time is the
// page's own mark of the moment it shows the result; the time Playwright's role queries see it is printed beside it.
// Uses the production build in NEXT_DIST_DIR (default .next): build first. BENCH_REQUESTS / BENCH_POLICIES scale it.
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "@playwright/test";
import { openDatabase } from "../../server/db/connect";
import { startServer, ROOT } from "../../e2e/support";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const POLICIES = Number(process.env.BENCH_POLICIES ?? 1_000);
const PENDING = Math.min(200, REQUESTS);
const ACTIVE = Math.min(300, REQUESTS - PENDING);
const OWNER = { email: "bench@example.com", password: "bench password 123" };
const DIST = process.env.NEXT_DIST_DIR || ".next";
const REPS = Number(process.env.BENCH_REPS ?? 3);

function firstLoadJs(): { files: number; raw: number; gzip: number } {
  const html = readFileSync(join(ROOT, DIST, "server", "app", "requests.html"), "utf8");
  const srcs = [...new Set([...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]!))].filter((s) => s.startsWith("/_next/static/"));
  let raw = 0;
  let gzip = 0;
  for (const src of srcs) {
    const file = join(ROOT, DIST, "static", decodeURIComponent(src.slice("/_next/static/".length)));
    const body = readFileSync(file);
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  return { files: srcs.length, raw, gzip };
}

async function seed(dataDir: string) {
  const { db } = openDatabase({ databaseUrl: null, dataDir });
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  const iso = (ms: number) => new Date(ms).toISOString();
  const computerId = randomUUID();
  await db
    .insertInto("computers")
    .values({ id: computerId, name: "bench-01", name_key: "bench-01", os: "linux", agent_version: "bench", token_hash: randomUUID(), enrolled_at: iso(t0), last_seen_at: iso(t0), applied_bundle_version: null })
    .execute();
  let stamp = t0;
  const changes: { collection: string; doc_id: string; updated_at: string; owner_id: null }[] = [];
  const policies = Array.from({ length: POLICIES }, (_, i) => {
    const id = randomUUID();
    const at = iso(t0 + i * 1000);
    changes.push({ collection: "policies", doc_id: id, updated_at: iso(++stamp), owner_id: null });
    return {
      id,
      name: `Policy ${String(i).padStart(4, "0")}`,
      name_key: `policy ${String(i).padStart(4, "0")}`,
      description: "Build tools while the new toolchain rolls out",
      computers: JSON.stringify(["bench-01"]),
      users: JSON.stringify([`user${i}`]),
      duration: JSON.stringify({ type: "fixed", length: "2h" }),
      applications: JSON.stringify([{ type: "fileHash", sha256: "a".repeat(64) }]),
      status: "draft",
      revision: 1,
      deployed_at: null,
      created_by: null,
      created_at: at,
      updated_at: at,
    };
  });
  // History first, then active, then pending: the pending ones are stamped last, so once the Pending tab shows all
  // of them every request has replicated.
  const requests = Array.from({ length: REQUESTS }, (_, i) => {
    const id = randomUUID();
    const created = t0 + i * 60_000;
    const kind = i < REQUESTS - PENDING - ACTIVE ? "history" : i < REQUESTS - PENDING ? "active" : "pending";
    const now = Date.now();
    const status = kind === "history" ? (i % 3 === 0 ? "declined" : "expired") : kind === "active" ? "approved" : "pending";
    changes.push({ collection: "requests", doc_id: id, updated_at: iso(++stamp), owner_id: null });
    return {
      id,
      computer_id: computerId,
      end_user: `user${i % 500}`,
      app: JSON.stringify({ path: `/opt/tools/tool-${i % 200}`, sha256: "b".repeat(64) }),
      requested_duration: "1h",
      justification: `Ticket ${i}: patch the build farm before the release`,
      status,
      created_at: iso(kind === "pending" ? now - (REQUESTS - i) * 1000 : created),
      updated_at: iso(created + 1000),
      lapses_at: kind === "pending" ? iso(now + 86_400_000) : null,
      decided_at: kind === "pending" ? null : iso(created + 1000),
      decided_by: kind === "pending" ? null : JSON.stringify({ type: "user", id: "bench", name: OWNER.email }),
      approvals: "[]",
      approvals_needed: 1,
      granted_duration: kind === "pending" || status === "declined" ? null : "1h",
      starts_at: kind === "active" ? iso(now) : status === "expired" ? iso(created + 1000) : null,
      ends_at: kind === "active" ? iso(now + 3_600_000) : status === "expired" ? iso(created + 3_601_000) : null,
      note: null,
      decline_reason: status === "declined" ? "Not now" : null,
      revoked_by: null,
      revoke_reason: null,
      extends_request_id: null,
      client_ref: null,
      decision_bundle_version: null,
      applied_at: null,
      version: 1,
      decided_offline_at: null,
    };
  });
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < policies.length; i += 200) await trx.insertInto("policies").values(policies.slice(i, i + 200)).execute();
    for (let i = 0; i < requests.length; i += 100) await trx.insertInto("requests").values(requests.slice(i, i + 100)).execute();
    for (let i = 0; i < changes.length; i += 500) await trx.insertInto("sync_changes").values(changes.slice(i, i + 500)).execute();
  });
  await db.destroy();
}

// BENCH_PROFILE=1: where the page's main thread spends its time from navigation to the result (CDP sampling
// profiler; the IndexedDB backend runs in the browser process and shows here as idle time).
function printProfile(profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]; samples?: number[]; timeDeltas?: number[] }) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const f = byId.get(samples[i]!)!.callFrame as { functionName: string; url: string; lineNumber: number; columnNumber?: number };
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber}:${f.columnNumber ?? 0}`;
    self.set(key, (self.get(key) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
  console.log("profile (self ms):\n" + top.map(([k, v]) => `  ${v.toFixed(0).padStart(6)}  ${k}`).join("\n"));
}

/** Waits (up to 15 s) until the machine's CPUs are idle: less than 10 % of one busy over 250 ms. */
async function untilQuiet(): Promise<void> {
  const busy = () => {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    return f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!; // all but idle and iowait, in clock ticks (10 ms)
  };
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    const b0 = busy();
    await new Promise((r) => setTimeout(r, 250));
    if ((busy() - b0) * 10 < 25) return;
  }
}

/** CPU time (user + system, ms) of every process on the machine, by process (name and pid), from /proc. */
function cpuByProcess(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const type = cmd.find((a) => a.startsWith("--utility-sub-type="))?.slice(19).replace(/\.mojom\..*/, "") ?? cmd.find((a) => a.startsWith("--type="))?.slice(7) ?? "";
      out.set(`${name}${type ? `:${type}` : ""}:${pid}`, ((Number(f[11]) + Number(f[12])) * 1000) / 100);
    } catch {
      // gone
    }
  }
  return out;
}

async function main() {
  if (!existsSync(join(ROOT, DIST, "BUILD_ID"))) throw new Error(`no production build in ${DIST}: run npm run build first`);
  const js = firstLoadJs();
  const server = await startServer({ ADMIN_EMAIL: OWNER.email, ADMIN_PASSWORD: OWNER.password });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const s0 = Date.now();
    await seed(server.dataDir);
    console.log(`seeded ${REQUESTS} requests and ${POLICIES} policies in ${Date.now() - s0} ms`);

    const replicate: number[] = [];
    const observed: number[] = [];
    const floor: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      // A fresh console: a new profile (empty IndexedDB), signed in, then the Requests page.
      const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
      const page = await context.newPage();
      const login = await context.request.post(`${server.url}/api/trpc/auth.login`, { data: OWNER });
      if (!login.ok()) throw new Error(`sign-in failed: ${await login.text()}`);
      // The page marks the moment it first shows all three at once (Synced, the pending count, a card): Playwright's role
      // queries below confirm the same, but each one walks the page's accessibility tree (hundreds of buttons once
      // the cards are in) and polls, which adds a few hundred milliseconds of its own to the observed time.
      // (A string: a function would be sent through tsx, whose helpers the page does not have.)
      await page.addInitScript(`{
        const seen = new Set();
        const checks = [
          ["ui synced", () => !!document.querySelector('[aria-label^="Sync: Synced"]')],
          ["ui pending count", () => [...document.querySelectorAll('[role="tab"]')].some((t) => /Pending.*${PENDING}/.test(t.textContent))],
          ["ui card", () => !!document.querySelector("article")],
        ];
        const check = () => {
          if (seen.has("done")) return;
          const now = checks.filter(([name, ok]) => ok() && (seen.has(name) || (seen.add(name), performance.mark("jit-sync:" + name)), true));
          if (now.length === checks.length) (seen.add("done"), performance.mark("jit-sync:ui done"));
        };
        new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      }`);
      const cdp = process.env.BENCH_PROFILE ? await context.newCDPSession(page) : null;
      if (cdp) {
        await cdp.send("Profiler.enable");
        await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
        await cdp.send("Profiler.start");
      }
      // A new context opens a browser window, and Chromium's new headless mode preloads that window's omnibox popup
      // (a WebUI page in a renderer of its own: ~2 s of CPU on this machine). Start timing once it is done, as the
      // floor (measured later) is timed on a quiet machine too.
      await untilQuiet();
      const cpu0 = process.env.BENCH_DEBUG ? cpuByProcess() : null;
      const t0 = Date.now();
      await page.goto(`${server.url}/requests`);
      await page.getByRole("button", { name: /^Sync: Synced/ }).first().waitFor({ timeout: 300_000 });
      await page.getByRole("tab", { name: new RegExp(`Pending.*${PENDING}`) }).waitFor({ timeout: 300_000 });
      await page.getByRole("article").first().waitFor();
      observed.push(Date.now() - t0);
      if (cpu0) {
        const cpu1 = cpuByProcess();
        const used = [...cpu1].map(([k, v]) => [k, v - (cpu0.get(k) ?? 0)] as const).filter(([, v]) => v > 20).sort((a, b) => b[1] - a[1]);
        console.log(`debug: CPU time while timed (ms, ${Date.now() - t0} ms wall): ${used.map(([k, v]) => `${k} ${v}`).join(" · ")}`);
      }
      if (cdp) printProfile((await cdp.send("Profiler.stop")).profile);
      const shown = await page.evaluate(() => {
        const done = performance.getEntriesByName("jit-sync:ui done")[0];
        return done ? performance.timeOrigin + done.startTime : null;
      });
      if (shown === null) throw new Error("the page never marked Synced + pending count + card at once");
      replicate.push(Math.round(shown - t0));
      // Every document is in the local store (read from its IndexedDB, untimed).
      const stored = await page.evaluate(async () => {
        (globalThis as { __name?: unknown }).__name ??= (f: unknown) => f;
        const names = (await indexedDB.databases()).map((d) => d.name ?? "");
        const count = async (collection: string) => {
          const name = names.find((n) => n.startsWith("rxdb-dexie-jit-console-") && n.endsWith(`--${collection}`));
          if (!name) return -1;
          const db = await new Promise<IDBDatabase>((res, rej) => {
            const req = indexedDB.open(name);
            req.onsuccess = () => res(req.result);
            req.onerror = () => rej(req.error);
          });
          const n = await new Promise<number>((res) => (db.transaction("docs").objectStore("docs").count().onsuccess = (e) => res((e.target as IDBRequest<number>).result)));
          db.close();
          return n;
        };
        return { requests: await count("requests"), policies: await count("policies") };
      });
      if (stored.requests !== REQUESTS || stored.policies !== POLICIES) throw new Error(`the local store holds ${JSON.stringify(stored)}`);

      if (process.env.BENCH_DEBUG) {
        const marks = await page.evaluate(() =>
          performance.getEntriesByType("mark").filter((m) => m.name.startsWith("jit-sync:")).map((m) => `${Math.round(m.startTime)} ${m.name.slice(9)}`),
        );
        console.log(`debug: sync marks (ms since navigation start): ${marks.join(" · ")}`);
        const loading = await page.evaluate(() => {
          const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
          const res = (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
            .filter((r) => r.startTime < 3000)
            .map((r) => `${r.name.replace(/^https?:\/\/[^/]+/, "").replace(/\?input=.*/, "").slice(0, 40)} ${Math.round(r.startTime)}–${Math.round(r.responseEnd)}`);
          return `html ${Math.round(nav.responseEnd)}, interactive ${Math.round(nav.domInteractive)}, load ${Math.round(nav.loadEventEnd)}; ${res.join(" · ")}`;
        });
        console.log(`debug: loading (ms): ${loading}`);
        const pulled = await page.evaluate(async () => {
          const t = performance.now();
          let n = 0;
          for (const collection of ["requests", "policies"]) {
            let checkpoint: unknown = null;
            for (;;) {
              const input = encodeURIComponent(JSON.stringify({ collection, checkpoint, limit: 1000 }));
              const res = (await (await fetch(`/api/trpc/sync.pull?input=${input}`)).json()) as { result: { data: { documents: unknown[]; checkpoint: unknown } } };
              n += res.result.data.documents.length;
              if (res.result.data.documents.length < 1000) break;
              checkpoint = res.result.data.checkpoint;
            }
          }
          return { ms: performance.now() - t, n, nav: performance.getEntriesByType("navigation")[0]?.duration };
        });
        console.log(`debug: pulling ${pulled.n} documents over HTTP alone: ${Math.round(pulled.ms)} ms; navigation ${Math.round(pulled.nav ?? 0)} ms`);
      }
      // The console installs its service worker once the first sync is done (precaching ~1.4 MB), and its change
      // stream asks for a second round of pulls: let both finish, so the floor is timed on a quiet machine too.
      await page.evaluate(() => Promise.race([navigator.serviceWorker.ready, new Promise((r) => setTimeout(r, 15_000))]));
      await untilQuiet();
      // The floor: the same documents (fetched first, untimed) written straight into IndexedDB, in this browser.
      const ms = await page.evaluate(async () => {
        const docs: unknown[] = [];
        for (const collection of ["requests", "policies"]) {
          let checkpoint: unknown = null;
          for (;;) {
            const input = encodeURIComponent(JSON.stringify({ collection, checkpoint, limit: 1000 }));
            const res = (await (await fetch(`/api/trpc/sync.pull?input=${input}`)).json()) as { result: { data: { documents: unknown[]; checkpoint: unknown } } };
            docs.push(...res.result.data.documents);
            if (res.result.data.documents.length < 1000) break;
            checkpoint = res.result.data.checkpoint;
          }
        }
        const open = indexedDB.open(`floor-${Math.random()}`, 1);
        open.onupgradeneeded = () => open.result.createObjectStore("docs", { keyPath: "id" });
        const idb = await new Promise<IDBDatabase>((res, rej) => {
          open.onsuccess = () => res(open.result);
          open.onerror = () => rej(open.error);
        });
        const start = performance.now();
        await new Promise<void>((res, rej) => {
          const tx = idb.transaction("docs", "readwrite");
          const store = tx.objectStore("docs");
          for (const d of docs) store.put(d);
          tx.oncomplete = () => res();
          tx.onerror = () => rej(tx.error);
        });
        const took = performance.now() - start;
        idb.close();
        return { took, count: docs.length };
      });
      if (ms.count !== REQUESTS + POLICIES) throw new Error(`the floor wrote ${ms.count} documents, expected ${REQUESTS + POLICIES}`);
      floor.push(ms.took);
      if (process.env.BENCH_DEBUG) {
        // The same floor, but into object stores with the local store's own indexes (read from its IndexedDB):
        // what any store that can answer the console's queries pays at least.
        const indexed = await page.evaluate(async () => {
          // tsx names the functions below with a helper of its own, which the page does not have.
          (globalThis as { __name?: unknown }).__name ??= (f: unknown) => f;
          const open = (name: string, upgrade?: (db: IDBDatabase) => void) =>
            new Promise<IDBDatabase>((res, rej) => {
              const req = upgrade ? indexedDB.open(name, 1) : indexedDB.open(name);
              if (upgrade) req.onupgradeneeded = () => upgrade(req.result);
              req.onsuccess = () => res(req.result);
              req.onerror = () => rej(req.error);
            });
          const specs: { collection: string; keyPath: string | string[]; indexes: (string | string[])[] }[] = [];
          const names = (await indexedDB.databases()).map((d) => d.name ?? "");
          for (const collection of ["requests", "policies"]) {
            const name = names.find((n) => n.startsWith("rxdb-dexie-jit-console-") && n.endsWith(`--${collection}`));
            if (!name) throw new Error(`no local store for ${collection}`);
            const db = await open(name);
            const store = db.transaction("docs", "readonly").objectStore("docs");
            specs.push({ collection, keyPath: store.keyPath!, indexes: [...store.indexNames].map((i) => store.index(i).keyPath) });
            db.close();
          }
          const docs: Record<string, unknown[]> = {};
          for (const { collection } of specs) {
            docs[collection] = [];
            let checkpoint: unknown = null;
            for (;;) {
              const input = encodeURIComponent(JSON.stringify({ collection, checkpoint, limit: 1000 }));
              const res = (await (await fetch(`/api/trpc/sync.pull?input=${input}`)).json()) as { result: { data: { documents: Record<string, unknown>[]; checkpoint: unknown } } };
              // As the local store keeps them: `_deleted` as an index key, RxDB's meta fields.
              docs[collection]!.push(...res.result.data.documents.map((d) => ({ ...d, _deleted: d._deleted ? "1" : "0", _meta: { lwt: Date.now() }, _rev: "1-bench", _attachments: {} })));
              if (res.result.data.documents.length < 1000) break;
              checkpoint = res.result.data.checkpoint;
            }
          }
          const idb = await open(`floor-indexed-${Math.random()}`, (db) => {
            for (const spec of specs) {
              const store = db.createObjectStore(spec.collection, { keyPath: spec.keyPath });
              spec.indexes.forEach((keyPath, i) => store.createIndex(`i${i}`, keyPath));
            }
          });
          const start = performance.now();
          await new Promise<void>((res, rej) => {
            const tx = idb.transaction(specs.map((s) => s.collection), "readwrite");
            for (const { collection } of specs) for (const d of docs[collection]!) tx.objectStore(collection).put(d);
            tx.oncomplete = () => res();
            tx.onerror = () => rej(tx.error);
          });
          const took = performance.now() - start;
          idb.close();
          return { took, indexes: specs.map((s) => `${s.collection}: ${s.indexes.length}`).join(", ") };
        });
        console.log(`debug: floor into stores with the local store's indexes (${indexed.indexes}): ${Math.round(indexed.took)} ms`);
      }
      console.log(`run ${rep + 1}: replicate + render ${replicate[rep]} ms (seen by Playwright ${observed[rep]} ms); IndexedDB floor ${Math.round(ms.took)} ms`);
      await context.close();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const r = median(replicate);
    const f = median(floor);
    console.log("");
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB; Chromium headless; SQLite`);
    console.log(`documents: ${REQUESTS} requests (${PENDING} pending, ${ACTIVE} active) + ${POLICIES} policies`);
    console.log(`fresh console, replicate + render Requests (median of ${REPS}): ${r} ms`);
    console.log(`floor, the same documents straight into IndexedDB (median of ${REPS}): ${Math.round(f)} ms`);
    console.log(`ratio: ${(r / f).toFixed(2)} (target ≤ 3)`);
    console.log(`  as seen by Playwright's role queries (median of ${REPS}): ${median(observed)} ms, ratio ${(median(observed) / f).toFixed(2)}`);
    console.log(`first-load JS of /requests: ${js.files} scripts, ${(js.raw / 1024).toFixed(1)} kB raw, ${(js.gzip / 1024).toFixed(2)} kB gzip (target ≤ 250 kB gzip)`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
