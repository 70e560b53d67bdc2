// Replication to the console's offline store over HTTP on a real database (SQLite, or PostgreSQL with TEST_DB=postgres):
// pull by checkpoint, tombstones, the outbox (run once, checked again, conflicts told), role filtering, the stream.
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AgentRequestView } from "../core/protocol";
import { compareCheckpoints, newOutboxEntry, type Checkpoint, type OutboxEntry, type OutboxKind, type OutboxPayload, type StreamEvent, type SyncCollection } from "../core/sync";
import type { AppRouter } from "./routers";
import { appendEvents } from "./services/events";
import { apiClient, enrollComputer, setUpOwner, signedInClient, startTestServer, TEST_DB, TEST_OWNER, trpcCode, type TestServer } from "./test-support";

const OWNER = TEST_OWNER;
const PASSWORD = "a long enough password";
const SHA = "c".repeat(64);
const T0 = Date.parse("2026-11-27T10:00:00.000Z");

// A clock that stands still unless a test moves it: every write in a test shares a millisecond.
let clock = T0;
const now = () => new Date(clock);
let srv: TestServer;
let owner: ReturnType<typeof apiClient>;
let agentToken: string;

beforeEach(async () => {
  clock = T0;
  srv = await startTestServer({ now });
  owner = (await setUpOwner(srv.url)).client;
  agentToken = (await enrollComputer(srv.url, owner)).agentToken;
});
afterEach(async () => {
  await srv.stop();
});

async function agentCall(path: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${srv.url}/agent/v1${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${agentToken}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function submit(user = "alice"): Promise<AgentRequestView> {
  const r = await agentCall("/requests", { method: "POST", body: { user, app: { path: "/usr/bin/tool", sha256: SHA }, duration: "30m", justification: "deploy the hotfix to prod" } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.request ?? r.body;
}

async function person(email: string, role: "owner" | "admin" | "approver" | "auditor") {
  await owner.users.create.mutate({ email, password: PASSWORD, role });
  return (await signedInClient(srv.url, email, PASSWORD)).client;
}

type Client = ReturnType<typeof apiClient>;
type AnyDoc = { id: string; updatedAt: string; _deleted: boolean } & Record<string, any>;

/** Pulls a collection from `from` to the end in pages of `limit`, as RxDB does. */
async function pullAll(client: Client, collection: SyncCollection, limit: number, from: Checkpoint | null = null) {
  const docs: AnyDoc[] = [];
  let checkpoint = from;
  for (let page = 0; page < 1000; page++) {
    const r = await client.sync.pull.query({ collection, checkpoint, limit });
    docs.push(...(r.documents as AnyDoc[]));
    if (r.documents.length === 0) {
      expect(r.checkpoint).toEqual(checkpoint);
      break;
    }
    expect(r.documents.length).toBeLessThanOrEqual(limit);
    checkpoint = r.checkpoint;
  }
  return { docs, checkpoint };
}

function entry<K extends OutboxKind>(kind: K, payload: OutboxPayload<K>, clientAt = new Date(clock)): OutboxEntry {
  return newOutboxEntry(crypto.randomUUID(), kind, payload, clientAt);
}
async function push(client: Client, ...entries: OutboxEntry[]): Promise<OutboxEntry[]> {
  const r = await client.sync.push.mutate({ collection: "outbox", rows: entries.map((e) => ({ assumedMasterState: null, newDocumentState: e })) });
  return r.conflicts;
}

const policyFile = (over: Record<string, unknown> = {}) => ({
  name: "Build tools",
  computers: ["build-01"],
  users: "all",
  duration: { type: "fixed", length: "8h" },
  applications: [{ type: "fileHash", sha256: SHA }],
  ...over,
});

describe("pull", () => {
  it("walks every collection from null to the end in pages, no row skipped or repeated, though all share one millisecond", async () => {
    const first = await Promise.all(Array.from({ length: 12 }, (_, i) => submit(`user${i}`)));
    const walk1 = await pullAll(owner, "requests", 5);
    expect(walk1.docs.map((d) => d.id).sort()).toEqual(first.map((r) => r.id).sort());
    // Stamps are strictly increasing although the clock stood still.
    for (let i = 1; i < walk1.docs.length; i++) expect(walk1.docs[i - 1]!.updatedAt < walk1.docs[i]!.updatedAt).toBe(true);

    // More changes (new rows, a decision on an old one) come after the checkpoint, each once.
    const more = await Promise.all(Array.from({ length: 7 }, (_, i) => submit(`late${i}`)));
    await owner.requests.decline.mutate({ id: first[3]!.id, reason: "not now" });
    const walk2 = await pullAll(owner, "requests", 3, walk1.checkpoint);
    expect(walk2.docs.map((d) => d.id).sort()).toEqual([...more.map((r) => r.id), first[3]!.id].sort());
    expect(walk2.docs.find((d) => d.id === first[3]!.id)).toMatchObject({ status: "declined", _deleted: false });
    const cps = [...walk1.docs, ...walk2.docs].map((d) => ({ updatedAt: d.updatedAt, id: d.id }));
    for (let i = 1; i < cps.length; i++) expect(compareCheckpoints(cps[i - 1]!, cps[i]!)).toBeLessThan(0);

    // Every other collection replicates too, each document valid for the contract (the server parses it).
    const events = await pullAll(owner, "events", 7);
    expect(new Set(events.docs.map((d) => d.id)).size).toBe(events.docs.length);
    expect(events.docs.filter((d) => d.type === "request.submitted")).toHaveLength(19);
    expect((await pullAll(owner, "computers", 10)).docs.map((d) => d.name)).toEqual(["build-01"]);
    expect((await pullAll(owner, "settings", 10)).docs).toMatchObject([{ id: "settings", requests: { maxDuration: "8h" }, _deleted: false }]); // the defaults
    await owner.settings.update.mutate({ ...(await owner.settings.get.query()), requests: { enabled: true, maxDuration: "4h", minJustificationLength: 5, lapseAfter: "24h" } });
    expect((await pullAll(owner, "settings", 10)).docs).toMatchObject([{ id: "settings", requests: { maxDuration: "4h" }, _deleted: false }]);
  });

  it("replicates the newest 500 events to a fresh store, then every later one", async () => {
    const many = Array.from({ length: 620 }, (_, i) => ({ type: "agent.elevation_denied" as const, actor: { type: "system" as const, name: "test" }, detail: { n: i } }));
    await srv.services.db.transaction().execute((trx) => appendEvents(trx, srv.services.dialect, many, now()));
    const fresh = await pullAll(owner, "events", 200);
    expect(fresh.docs).toHaveLength(500);
    expect(fresh.docs.at(-1)!.detail).toEqual({ n: 619 });
    expect(fresh.docs.map((d) => d.seq)).toEqual([...fresh.docs.map((d) => d.seq)].sort((a, b) => a - b));
    await submit();
    expect((await pullAll(owner, "events", 200, fresh.checkpoint)).docs.map((d) => d.type)).toEqual(["request.submitted"]);
  });

  it("replicates a deleted draft policy and a removed allowlist entry as tombstones", async () => {
    const created = await owner.policies.create.mutate(policyFile());
    const entry1 = await owner.allowlist.add.mutate({ name: "Vendor X", rule: { type: "vendor", vendor: "X" } });
    const policies = await pullAll(owner, "policies", 10);
    expect(policies.docs).toMatchObject([{ id: created.policy.id, name: "Build tools", policyRevision: 1, _deleted: false }]);
    const allow = await pullAll(owner, "allowlist", 10);
    expect(allow.docs).toMatchObject([{ id: entry1.id, name: "Vendor X", _deleted: false }]);

    await owner.policies.delete.mutate({ id: created.policy.id });
    await owner.allowlist.remove.mutate({ id: entry1.id });
    const p2 = await pullAll(owner, "policies", 10, policies.checkpoint);
    expect(p2.docs).toMatchObject([{ id: created.policy.id, _deleted: true }]);
    const a2 = await pullAll(owner, "allowlist", 10, allow.checkpoint);
    expect(a2.docs).toMatchObject([{ id: entry1.id, _deleted: true }]);
    // A fresh store gets the tombstones too (and deletes nothing it has not got).
    expect((await pullAll(owner, "policies", 10)).docs.map((d) => d._deleted)).toEqual([true]);
  });

  it("restamps a computer for its last-seen time at most every 30 s, for a new applied bundle at once", async () => {
    const start = await pullAll(owner, "computers", 10);
    expect(start.docs).toHaveLength(1);
    const bundle = (headers: Record<string, string> = {}) => fetch(`${srv.url}/agent/v1/bundle`, { headers: { authorization: `Bearer ${agentToken}`, ...headers } });
    const version = ((await (await bundle()).json()) as { bundle: { version: number } }).bundle.version;
    clock += 5_000;
    await bundle();
    expect((await pullAll(owner, "computers", 10, start.checkpoint)).docs).toEqual([]);
    clock += 31_000;
    await bundle();
    const seen = await pullAll(owner, "computers", 10, start.checkpoint);
    expect(seen.docs).toMatchObject([{ lastSeenAt: new Date(clock).toISOString(), bundleVersion: null }]);
    clock += 1_000;
    await bundle({ "x-bundle-version": String(version) });
    expect((await pullAll(owner, "computers", 10, seen.checkpoint)).docs).toMatchObject([{ bundleVersion: version, latestBundleVersion: version }]);
  });

  it("refuses pulls and pushes without a session", async () => {
    const anonymous = apiClient(srv.url);
    await expect(anonymous.sync.pull.query({ collection: "requests", checkpoint: null, limit: 10 })).rejects.toSatisfy((e) => trpcCode(e) === "UNAUTHORIZED");
    await expect(push(anonymous, entry("policy.deploy", { id: "x" }))).rejects.toSatisfy((e) => trpcCode(e) === "UNAUTHORIZED");
    await expect(anonymous.sync.pull.query({ collection: "requests", checkpoint: null, limit: 5000 })).rejects.toBeTruthy();
  });
});

describe("push (the outbox)", () => {
  it("refuses an offline approval that reached the server after another admin declined, and leaves the request as it was", async () => {
    const r = await submit();
    const dana = await person("dana@example.com", "approver");
    const erin = await person("erin@example.com", "approver");
    const offlineAt = new Date(clock);
    clock += 60_000;
    await dana.requests.decline.mutate({ id: r.id, reason: "not during the freeze" });
    clock += 3 * 60_000;
    const [outcome] = await push(erin, entry("request.approve", { id: r.id }, offlineAt));
    expect(outcome).toMatchObject({ status: "refused", serverAt: new Date(clock).toISOString() });
    expect(outcome!.message).toMatch(/^Declined by dana@example\.com 3 min before your approval reached the server\./);
    const after = await owner.requests.get.query({ id: r.id });
    expect(after).toMatchObject({ status: "declined", decidedBy: { name: "dana@example.com" }, declineReason: "not during the freeze" });
    // The refusal replicates to its author, never dropped.
    expect((await pullAll(erin, "outbox", 10)).docs).toMatchObject([{ id: outcome!.id, status: "refused" }]);
  });

  it("runs an entry pushed twice once, and keeps both times of an offline decision", async () => {
    const r = await submit();
    const dana = await person("dana@example.com", "approver");
    const offlineAt = new Date(clock - 5 * 60_000);
    const e = entry("request.approve", { id: r.id, duration: "15m" }, offlineAt);
    const [first] = await push(dana, e);
    const [second] = await push(dana, e);
    expect(first).toMatchObject({ id: e.id, status: "accepted", result: { status: "approved", grantedDuration: "15m" } });
    expect(second).toEqual(first);
    const after = await owner.requests.get.query({ id: r.id });
    expect(after).toMatchObject({ status: "approved", decidedAt: new Date(clock).toISOString(), decidedOfflineAt: offlineAt.toISOString() });
    const events = (await owner.events.list.query({ filter: { requestId: r.id } })).events.filter((x) => x.type === "request.approved");
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ decidedOfflineAt: offlineAt.toISOString() });
    // The request document carries both times too.
    expect((await pullAll(owner, "requests", 10)).docs.find((d) => d.id === r.id)).toMatchObject({ decidedOfflineAt: offlineAt.toISOString(), decidedAt: new Date(clock).toISOString() });
    // Made online (through the outbox a moment ago): one time only.
    const r2 = await submit("bob");
    const [online] = await push(dana, entry("request.decline", { id: r2.id, reason: "no" }, new Date(clock - 500)));
    expect(online).toMatchObject({ status: "accepted", result: { status: "declined", decidedOfflineAt: null } });
  });

  it("runs an entry pushed from two tabs at once once", async () => {
    const r = await submit();
    const e = entry("request.approve", { id: r.id });
    const outcomes = (await Promise.all(Array.from({ length: 5 }, () => push(owner, e)))).flat();
    expect(outcomes.every((o) => o.id === e.id && (o.status === "accepted" || o.status === "waiting"))).toBe(true);
    expect(outcomes.some((o) => o.status === "accepted")).toBe(true);
    const events = (await owner.events.list.query({ filter: { requestId: r.id } })).events.filter((x) => x.type === "request.approved");
    expect(events).toHaveLength(1);
    expect((await pullAll(owner, "outbox", 10)).docs).toMatchObject([{ id: e.id, status: "accepted" }]);
  });

  it("gives a fresh store its user's newest 200 outbox entries", async () => {
    const all: OutboxEntry[] = [];
    for (let i = 0; i < 3; i++) all.push(...(await push(owner, ...Array.from({ length: 70 }, () => entry("policy.deploy", { id: "no-such-policy" })))));
    expect(all.every((o) => o.status === "refused" && /policy is gone/.test(o.message ?? ""))).toBe(true);
    const fresh = await pullAll(owner, "outbox", 1000);
    expect(fresh.docs).toHaveLength(200);
    expect(fresh.docs.map((d) => d.id)).toEqual(all.slice(10).map((o) => o.id));
  });

  it("refuses, and keeps, a write by a user whose role was lowered while offline", async () => {
    const r = await submit();
    const dana = await person("dana@example.com", "approver");
    const user = await srv.services.db.selectFrom("users").select("id").where("email", "=", "dana@example.com").executeTakeFirstOrThrow();
    await srv.services.db.updateTable("users").set({ role: "auditor" }).where("id", "=", user.id).execute();
    const [outcome] = await push(dana, entry("request.approve", { id: r.id }));
    expect(outcome).toMatchObject({ status: "refused" });
    expect(outcome!.message).toMatch(/role is now Auditor/);
    expect((await owner.requests.get.query({ id: r.id })).status).toBe("pending");
    // Pushed again: the same refusal, stored; pulled: there.
    expect(await push(dana, { ...outcome!, status: "waiting", message: null, serverAt: null })).toEqual([outcome]);
    expect((await pullAll(dana, "outbox", 10)).docs).toMatchObject([{ id: outcome!.id, status: "refused" }]);
  });

  it("redeploys a policy edited through the outbox (a new bundle version for its computer)", async () => {
    const created = await owner.policies.create.mutate({ ...policyFile(), deploy: true });
    const before = (await agentCall("/bundle")).body.bundle;
    expect(before.policies.map((p: { id: string }) => p.id)).toEqual([created.policy.id]);
    clock += 60_000;
    const [outcome] = await push(owner, entry("policy.update", { id: created.policy.id, policy: policyFile({ duration: { type: "fixed", length: "4h" } }) }));
    expect(outcome).toMatchObject({ status: "accepted", message: "Saved and redeployed.", result: { revision: 2, status: "deployed" } });
    const after = (await agentCall("/bundle")).body.bundle;
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.policies[0]).toMatchObject({ id: created.policy.id, revision: 2, duration: { type: "fixed", length: "4h" } });
    const policies = await pullAll(owner, "policies", 10);
    expect(policies.docs).toMatchObject([{ id: created.policy.id, policyRevision: 2, effectiveStatus: "deployed" }]);
  });

  it("replicates each person's outbox entries to that person only", async () => {
    const r1 = await submit("u1");
    const r2 = await submit("u2");
    const dana = await person("dana@example.com", "approver");
    const erin = await person("erin@example.com", "approver");
    const [d] = await push(dana, entry("request.approve", { id: r1.id }));
    const [e] = await push(erin, entry("request.decline", { id: r2.id, reason: "no" }));
    expect((await pullAll(dana, "outbox", 1)).docs.map((x) => x.id)).toEqual([d!.id]);
    expect((await pullAll(erin, "outbox", 1)).docs.map((x) => x.id)).toEqual([e!.id]);
    expect((await pullAll(owner, "outbox", 10)).docs).toEqual([]);
    // Another person's entry id cannot be used to read its outcome.
    const [stolen] = await push(erin, { ...d!, status: "waiting", message: null, serverAt: null, result: null });
    expect(stolen).toMatchObject({ status: "refused", result: null });
    expect(stolen!.message).toMatch(/already used/);
  });
});

function streamClient(token: string) {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: `${srv.url}/api/trpc`,
          EventSource,
          eventSourceOptions: { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` } }) },
        }),
        false: httpLink({ url: `${srv.url}/api/trpc`, headers: { authorization: `Bearer ${token}` } }),
      }),
    ],
  });
}

describe("stream", () => {
  it("ends when its session is signed out", async () => {
    const { token } = await signedInClient(srv.url, OWNER.email, OWNER.password);
    const client = streamClient(token);
    let started!: () => void;
    const ready = new Promise<void>((r) => (started = r));
    let ended = false;
    const sub = client.sync.stream.subscribe(undefined, { onStarted: () => started(), onComplete: () => (ended = true), onError: () => (ended = true), onData: () => {} });
    try {
      await ready;
      await client.auth.logout.mutate();
      for (let i = 0; i < 300 && !ended; i++) await new Promise((res) => setTimeout(res, 50));
      expect(ended).toBe(true);
    } finally {
      sub.unsubscribe();
    }
  });

  it.skipIf(TEST_DB !== "postgres")("tells a console on one server of a write made through another (PostgreSQL)", async () => {
    const b = await startTestServer({ now, shareDatabaseOf: srv });
    try {
      const { token } = await signedInClient(b.url, OWNER.email, OWNER.password);
      const onB = createTRPCClient<AppRouter>({
        links: [
          splitLink({
            condition: (op) => op.type === "subscription",
            true: httpSubscriptionLink({
              url: `${b.url}/api/trpc`,
              EventSource,
              eventSourceOptions: { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` } }) },
            }),
            false: httpLink({ url: `${b.url}/api/trpc`, headers: { authorization: `Bearer ${token}` } }),
          }),
        ],
      });
      const seen: StreamEvent[] = [];
      let started!: () => void;
      const ready = new Promise<void>((r) => (started = r));
      const sub = onB.sync.stream.subscribe(undefined, { onStarted: () => started(), onData: (d) => seen.push(d) });
      try {
        await ready;
        await new Promise((r) => setTimeout(r, 300));
        await owner.allowlist.add.mutate({ name: "Vendor Y", rule: { type: "vendor", vendor: "Y" } });
        for (let i = 0; i < 300 && !seen.some((s) => s.collection === "allowlist"); i++) await new Promise((res) => setTimeout(res, 20));
        expect(seen.map((s) => s.collection)).toContain("allowlist");
        expect((await onB.sync.pull.query({ collection: "allowlist", checkpoint: null, limit: 10 })).documents).toMatchObject([{ name: "Vendor Y" }]);
      } finally {
        sub.unsubscribe();
      }
    } finally {
      await b.stop();
    }
  });

  it("tells a console which collection changed after another client wrote", async () => {
    const { token } = await signedInClient(srv.url, OWNER.email, OWNER.password);
    const client = streamClient(token);
    const seen: StreamEvent[] = [];
    let started!: () => void;
    const ready = new Promise<void>((r) => (started = r));
    const sub = client.sync.stream.subscribe(undefined, { onStarted: () => started(), onData: (d) => seen.push(d) });
    try {
      await ready;
      await new Promise((r) => setTimeout(r, 200));
      // Another client (the owner's other session) writes a policy, and an agent submits a request.
      await owner.policies.create.mutate(policyFile());
      await submit();
      const want = (c: SyncCollection) => seen.some((s) => s.collection === c);
      for (let i = 0; i < 300 && !(want("policies") && want("requests") && want("events")); i++) await new Promise((res) => setTimeout(res, 20));
      expect(want("policies") && want("requests") && want("events"), JSON.stringify(seen)).toBe(true);
      const pc = seen.find((s) => s.collection === "policies")!.checkpoint!;
      const pulled = await client.sync.pull.query({ collection: "policies", checkpoint: null, limit: 10 });
      expect(pulled.checkpoint).toEqual(pc);
    } finally {
      sub.unsubscribe();
    }
  });
});
