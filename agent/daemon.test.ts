// The daemon loop against a stand-in HTTP server in the test: applies a version at once, backs off on failure,
// stops promptly when aborted, and never logs the agent token.
import { promises as fs } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runDaemon } from "./daemon";
import type { StateStore } from "./state";
import { enrolledStore, makeBundle, makeKeys, makeTempDir, signWith, type TestKeys } from "./test-fixtures";

let dir: string;
let keys: TestKeys;
let store: StateStore;
let server: Server;
let handler: (res: ServerResponse, ifNoneMatch: string | undefined) => void;
let lines: Record<string, unknown>[];
let raw: string;

function memoryLogger() {
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw += String(chunk);
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: "debug" }, sink);
}

async function until(pred: () => boolean, ms = 3_000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeEach(async () => {
  dir = await makeTempDir();
  keys = makeKeys();
  lines = [];
  raw = "";
  server = createServer((req, res) => handler(res, req.headers["if-none-match"]));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  ({ store } = await enrolledStore(keys, dir, { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
  await fs.rm(dir, { recursive: true, force: true });
});

describe("runDaemon", () => {
  it("applies a bundle at once, then long-polls, and stops promptly on abort", async () => {
    handler = (res, inm) => {
      if (inm === '"1"') return; // hold the long-poll open
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(signWith(keys, makeBundle({ version: 1 }))));
    };
    const ac = new AbortController();
    const done = runDaemon({ store, wait: 25, signal: ac.signal, logger: memoryLogger() });
    await until(() => lines.some((l) => l.event === "bundle_applied"));
    expect(await store.loadTrust()).toMatchObject({ highestVersion: 1 });
    const t = Date.now();
    ac.abort();
    await done;
    expect(Date.now() - t).toBeLessThan(1_000);
    expect(lines.map((l) => l.event)).toEqual(["start", "bundle_applied", "stop"]);
    expect(raw).not.toContain("agt_secret_token");
  });

  it("backs off on 5xx and 401, keeping the cache", async () => {
    let calls = 0;
    handler = (res) => {
      calls++;
      const status = calls % 2 ? 503 : 401;
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: status === 401 ? "unauthorized" : "unavailable", message: "nope" } }));
    };
    await store.writeBundleEnvelope(signWith(keys, makeBundle({ version: 3 })));
    const before = await fs.readFile(store.path("bundle"), "utf8");
    const ac = new AbortController();
    // random() = 0: no real waiting, but the schedule still counts attempts.
    const done = runDaemon({ store, wait: 0, signal: ac.signal, logger: memoryLogger(), random: () => 0 });
    await until(() => lines.filter((l) => l.event === "unauthorized" || l.event === "sync_failed").length >= 4);
    ac.abort();
    await done;
    const failures = lines.filter((l) => l.event === "unauthorized" || l.event === "sync_failed");
    expect(failures.slice(0, 4).map((l) => l.attempt)).toEqual([1, 2, 3, 4]);
    expect(failures.some((l) => l.event === "unauthorized")).toBe(true);
    expect(await fs.readFile(store.path("bundle"), "utf8")).toBe(before);
    expect(raw).not.toContain("agt_secret_token");
  });
});
