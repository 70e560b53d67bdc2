// syncOnce against a stand-in HTTP server in the test (not the real server): headers, 304, accept and store,
// refusals never written, and failures recorded for `status`.
import { promises as fs } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentHttpError } from "./client";
import type { AgentConfig, StateStore } from "./state";
import { syncOnce } from "./sync";
import { enrolledStore, makeBundle, makeKeys, makeTempDir, signWith, type TestKeys } from "./test-fixtures";

type Reply = { status: number; body?: unknown };
let dir: string;
let keys: TestKeys;
let store: StateStore;
let config: AgentConfig;
let server: Server;
let seen: IncomingMessage[];
let reply: (req: IncomingMessage) => Reply;

beforeEach(async () => {
  dir = await makeTempDir();
  keys = makeKeys();
  seen = [];
  server = createServer((req, res) => {
    seen.push(req);
    const r = reply(req);
    res.writeHead(r.status, { "content-type": "application/json" });
    res.end(r.body === undefined ? undefined : JSON.stringify(r.body));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;
  ({ store, config } = await enrolledStore(keys, dir, { server: `http://127.0.0.1:${port}` }));
});
afterEach(async () => {
  await new Promise((ok) => server.close(ok));
  await fs.rm(dir, { recursive: true, force: true });
});

describe("syncOnce", () => {
  it("applies a new bundle, stores it as received, and then asks conditionally", async () => {
    const signed = signWith(keys, makeBundle({ version: 4 }));
    reply = () => ({ status: 200, body: signed });
    expect(await syncOnce(store, config, { wait: 0 })).toEqual({ status: "applied", version: 4, previous: null });
    expect(JSON.parse(await fs.readFile(store.path("bundle"), "utf8"))).toEqual(signed);
    expect(await store.loadTrust()).toMatchObject({ highestVersion: 4 });
    expect(await store.loadSyncState()).toMatchObject({ lastError: null, lastSyncAt: expect.any(String) });
    const first = seen[0]!;
    expect(first.url).toBe("/agent/v1/bundle?wait=0");
    expect(first.headers.authorization).toBe("Bearer agt_secret_token");
    expect(first.headers["x-agent-version"]).toBe("0.1.0");
    expect(first.headers["if-none-match"]).toBeUndefined();

    reply = () => ({ status: 304 });
    expect(await syncOnce(store, config, { wait: 0 })).toEqual({ status: "unchanged", version: 4 });
    expect(seen[1]!.headers["if-none-match"]).toBe('"4"');
    expect(seen[1]!.headers["x-bundle-version"]).toBe("4");
  });

  it("never writes a refused bundle, keeps the old one, and records the refusal", async () => {
    const good = signWith(keys, makeBundle({ version: 4 }));
    reply = () => ({ status: 200, body: good });
    await syncOnce(store, config, { wait: 0 });
    const before = await fs.readFile(store.path("bundle"), "utf8");

    const offers = [
      signWith(makeKeys(), makeBundle({ version: 5 })), // another key
      signWith(keys, makeBundle({ version: 3 })), // rollback
      signWith(keys, makeBundle({ version: 6, computer: { id: "cmp_2", name: "other" } })), // another computer
      { ...good, bundle: { ...good.bundle, version: 7 } }, // tampered
    ];
    const codes = [];
    for (const offer of offers) {
      reply = () => ({ status: 200, body: offer });
      const r = await syncOnce(store, config, { wait: 0 });
      codes.push(r.status === "refused" ? r.refusal.code : r.status);
      expect(r).toMatchObject({ version: 4 });
    }
    expect(codes).toEqual(["bad_signature", "rollback", "wrong_computer", "bad_signature"]);
    expect(await fs.readFile(store.path("bundle"), "utf8")).toBe(before);
    expect(await store.loadTrust()).toMatchObject({ highestVersion: 4 });
    expect((await store.loadSyncState()).lastError).toMatchObject({ code: "bundle_bad_signature" });
  });

  it("throws a typed error on 401 and 5xx, with the server's message, and records it", async () => {
    reply = () => ({ status: 401, body: { error: { code: "unauthorized", message: "the agent token was revoked" } } });
    const e = await syncOnce(store, config, { wait: 0 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AgentHttpError);
    expect(e).toMatchObject({ kind: "unauthorized", status: 401, message: "the agent token was revoked" });
    expect((await store.loadSyncState()).lastError).toMatchObject({ code: "unauthorized" });

    reply = () => ({ status: 503, body: "<html>" });
    await expect(syncOnce(store, config, { wait: 0 })).rejects.toMatchObject({ kind: "server", status: 503 });
  });

  it("reports an unreachable server as a network error", async () => {
    await new Promise((ok) => server.close(ok));
    server = createServer();
    await expect(syncOnce(store, config, { wait: 0 })).rejects.toMatchObject({ kind: "network" });
    server.listen(0);
  });

  it("stops at once when aborted during a long-poll", async () => {
    reply = () => ({ status: 304 });
    server.removeAllListeners("request");
    server.on("request", () => {}); // never answers: a long-poll in progress
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 100);
    await expect(syncOnce(store, config, { wait: 25, signal: ac.signal })).rejects.toMatchObject({ kind: "aborted" });
    expect(Date.now() - started).toBeLessThan(2_000);
    server.closeAllConnections();
  });
});
