// Several servers on one PostgreSQL database: a change made on one wakes the agents long-polling another.
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import { afterEach, describe, expect, it } from "vitest";
import { bundleEtag } from "../core/protocol";
import type { AppRouter } from "./routers";
import { apiClient, signedInClient, startTestServer, TEST_DB, type TestServer } from "./test-support";

const OWNER = { email: "owner@example.com", password: "correct horse battery" };
const servers: TestServer[] = [];
afterEach(async () => {
  // The second server first: the first one drops the shared database.
  for (const s of servers.reverse()) await s.stop();
  servers.length = 0;
});

describe.skipIf(TEST_DB !== "postgres")("two servers, one PostgreSQL", () => {
  it("wakes a long-poll on server A within a second of a policy change made on server B", async () => {
    const a = await startTestServer();
    servers.push(a);
    const b = await startTestServer({ shareDatabaseOf: a });
    servers.push(b);
    await apiClient(a.url).auth.setupOwner.mutate(OWNER);
    const onB = (await signedInClient(b.url, OWNER.email, OWNER.password)).client;
    const { token } = await onB.computers.createEnrollmentToken.mutate();
    const enrolled = (await (
      await fetch(`${a.url}/agent/v1/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, name: "build-01", os: "linux", agentVersion: "0.1.0" }),
      })
    ).json()) as { agentToken: string };
    const pullA = (headers: Record<string, string>, wait: number) =>
      fetch(`${a.url}/agent/v1/bundle?wait=${wait}`, { headers: { authorization: `Bearer ${enrolled.agentToken}`, ...headers } });
    const first = (await (await pullA({}, 0)).json()) as { bundle: { version: number } };

    for (let round = 0; round < 3; round++) {
      const current = first.bundle.version + round;
      const waiting = pullA({ "if-none-match": bundleEtag(current) }, 20);
      await new Promise((r) => setTimeout(r, 200));
      const changedAt = Date.now();
      await onB.policies.upsert.mutate({
        name: "Build tools",
        computers: ["build-01"],
        users: [`user${round}`],
        duration: { type: "fixed", length: "2h" },
        applications: [{ type: "fileHash", sha256: "a".repeat(64) }],
        deploy: true,
      });
      const res = await waiting;
      const latency = Date.now() - changedAt;
      expect(res.status).toBe(200);
      const body = (await res.json()) as { bundle: { version: number; policies: { users: string[] }[] } };
      expect(body.bundle.version).toBe(current + 1);
      expect(body.bundle.policies[0]!.users).toEqual([`user${round}`]);
      expect(latency).toBeLessThan(1_000);
    }
  });

  async function twoServers() {
    const a = await startTestServer();
    servers.push(a);
    const b = await startTestServer({ shareDatabaseOf: a });
    servers.push(b);
    await apiClient(a.url).auth.setupOwner.mutate(OWNER);
    const { client: onB, token: sessionToken } = await signedInClient(b.url, OWNER.email, OWNER.password);
    const { token } = await onB.computers.createEnrollmentToken.mutate();
    const enrolled = (await (
      await fetch(`${a.url}/agent/v1/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, name: "build-01", os: "linux", agentVersion: "0.1.0" }),
      })
    ).json()) as { agentToken: string };
    const agent = (server: TestServer, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
      fetch(`${server.url}/agent/v1${path}`, {
        method: init.method ?? "GET",
        headers: { authorization: `Bearer ${enrolled.agentToken}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      });
    const submit = async (server: TestServer, user: string) => {
      const res = await agent(server, "/requests", {
        method: "POST",
        body: { user, app: { path: "/usr/bin/tool", sha256: "b".repeat(64) }, duration: "30m", justification: "deploy the hotfix to prod" },
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: string };
    };
    /** A console's live stream (SSE) on a server, collecting the request ids it is told about. */
    const stream = async (server: TestServer) => {
      const client = createTRPCClient<AppRouter>({
        links: [
          splitLink({
            condition: (op) => op.type === "subscription",
            true: httpSubscriptionLink({
              url: `${server.url}/api/trpc`,
              EventSource,
              eventSourceOptions: () => ({ fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization: `Bearer ${sessionToken}` } }) }),
            }),
            false: httpLink({ url: `${server.url}/api/trpc` }),
          }),
        ],
      });
      const seen: { at: number; ids: string[] }[] = [];
      const synced: { at: number; collection: string }[] = [];
      let started = 0;
      let stopAll = () => {};
      const bothStarted = new Promise<void>((r) => {
        const one = () => ++started === 2 && r();
        const subs = [
          client.requests.changes.subscribe(undefined, { onStarted: one, onData: (d) => seen.push({ at: Date.now(), ids: d.ids }) }),
          // The console's replication stream (issue 5): which collections to pull again.
          client.sync.stream.subscribe(undefined, { onStarted: one, onData: (d) => synced.push({ at: Date.now(), collection: d.collection }) }),
        ];
        stopAll = () => subs.forEach((x) => x.unsubscribe());
      });
      await bothStarted;
      // The replication stream's look-out takes a first look when it opens: let it settle.
      await new Promise((r) => setTimeout(r, 300));
      return { seen, synced, stop: () => stopAll() };
    };
    return { a, b, onB, agent, submit, stream };
  }

  async function until<T>(what: () => T | undefined, ms: number): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = what();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it("brings an approval made on server B to an agent long-polling server A within a second", async () => {
    const { a, onB, agent, submit } = await twoServers();
    for (let round = 0; round < 3; round++) {
      const request = await submit(a, `user${round}`);
      const current = ((await (await agent(a, "/bundle")).json()) as { bundle: { version: number } }).bundle.version;
      const waiting = agent(a, "/bundle?wait=20", { headers: { "if-none-match": bundleEtag(current) } });
      await new Promise((r) => setTimeout(r, 200));
      const approvedAt = Date.now();
      await onB.requests.approve.mutate({ id: request.id });
      const res = await waiting;
      const latency = Date.now() - approvedAt;
      expect(res.status).toBe(200);
      const body = (await res.json()) as { bundle: { grants: { requestId: string }[] } };
      expect(body.bundle.grants.map((g) => g.requestId)).toContain(request.id);
      expect(latency).toBeLessThan(1_000);
    }
  });

  it("shows a console's streams on server A (requests.changes, sync.stream) a request submitted through server B", async () => {
    const { a, b, submit, stream } = await twoServers();
    const live = await stream(a);
    try {
      for (let round = 0; round < 3; round++) {
        const sentAt = Date.now();
        const request = await submit(b, `user${round}`);
        const seenAt = await until(() => live.seen.find((s) => s.ids.includes(request.id))?.at, 5_000);
        expect(seenAt - sentAt).toBeLessThan(1_000);
        const syncedAt = await until(() => live.synced.find((s) => s.collection === "requests" && s.at >= sentAt)?.at, 5_000);
        expect(syncedAt - sentAt).toBeLessThan(1_000);
      }
      // A change naming more requests than one NOTIFY can carry arrives whole, split over several.
      const many = Array.from({ length: 2_000 }, (_, i) => `req-${String(i).padStart(6, "0")}-${"x".repeat(30)}`);
      b.services.feed.publish({ kind: "requests", ids: many });
      await until(() => {
        const got = new Set(live.seen.flatMap((s) => s.ids));
        return many.every((id) => got.has(id)) ? true : undefined;
      }, 5_000);
    } finally {
      live.stop();
    }
  });
});
