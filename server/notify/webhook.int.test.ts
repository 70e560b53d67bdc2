// Webhooks end to end on a real database (SQLite, or PostgreSQL with TEST_DB=postgres) and real HTTP: a receiver
// on loopback checks every signature and gets every event once, in order, even after being down for a while.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { NotificationKind, WebhookFormat } from "../../core/notifications";
import { verifySignature } from "./webhook";
import { apiClient, enrollComputer, setUpOwner, startTestServer, TEST_DB, testPolicy, trpcCode, type TestServer } from "../test-support";

type Received = { headers: IncomingHttpHeaders; body: string; json: any };

/** A webhook receiver on loopback: answers `status` (200 by default); can be closed and opened again on its port. */
class Receiver {
  got: Received[] = [];
  status = 200;
  hits = 0;
  port = 0;
  private server: Server | null = null;
  async open(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.hits += 1;
        const body = Buffer.concat(chunks).toString("utf8");
        if (this.status >= 200 && this.status < 300) this.got.push({ headers: req.headers, body, json: JSON.parse(body) });
        res.writeHead(this.status, { "content-type": "text/plain" }).end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(this.port, "127.0.0.1", () => r()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }
  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  get url() {
    return `http://127.0.0.1:${this.port}/hook`;
  }
}

const servers: TestServer[] = [];
const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  for (const s of servers.splice(0).reverse()) await s.stop();
});

async function start(over: { shareDatabaseOf?: TestServer } = {}) {
  const s = await startTestServer({
    ...over,
    env: { notifyAllowLoopbackHttp: true, publicUrl: "https://jit.example.com" },
    notify: { pollMs: 200, retry: { baseMs: 20, capMs: 150 } },
  });
  servers.push(s);
  return s;
}
async function receiver() {
  const r = await new Receiver().open();
  receivers.push(r);
  return r;
}

async function setUp(s: TestServer) {
  const { client } = await setUpOwner(s.url);
  const enrolled = await enrollComputer(s.url, client);
  const submit = async (justification = "deploy the hotfix to prod") => {
    const res = await fetch(`${s.url}/agent/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${enrolled.agentToken}`, "content-type": "application/json" },
      body: JSON.stringify({ user: "alice", app: { path: "/usr/bin/tool", sha256: "b".repeat(64) }, duration: "30m", justification }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string };
  };
  return { client, submit, computer: enrolled.computer };
}

const ALL: NotificationKind[] = ["request.submitted", "request.decided", "grant.ended", "policy.deployed", "audit.verify_failed"];

async function hook(client: ReturnType<typeof apiClient>, url: string, format: WebhookFormat = "generic", events = ALL) {
  return client.notifications.webhooks.create.mutate({ name: `Hook ${format}`, url, events, format });
}

function expectSigned(r: Received, secret: string) {
  expect(r.headers["x-jit-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
  expect(verifySignature(secret, r.body, r.headers["x-jit-signature"] as string)).toBe(true);
  expect(verifySignature("whsec_wrong", r.body, r.headers["x-jit-signature"] as string)).toBe(false);
  expect(r.headers["x-jit-delivery"]).toBeTruthy();
  expect(r.headers["x-jit-timestamp"]).toBeTruthy();
}

describe(`webhooks on ${TEST_DB}`, () => {
  it("sends every notifiable event once, signed, in order, with the request's details and a link", async () => {
    const s = await start();
    const rx = await receiver();
    const { client, submit, computer } = await setUp(s);
    const { id: hookId, secret } = await hook(client, rx.url);
    expect(secret).toMatch(/^whsec_/);

    const r = await submit();
    await client.requests.approve.mutate({ id: r.id, duration: "15m", note: "ok for today" });
    await client.requests.revoke.mutate({ id: r.id, reason: "done" });
    await client.policies.create.mutate(testPolicy());

    await vi.waitFor(() => expect(rx.got).toHaveLength(4), { timeout: 10_000, interval: 50 });
    for (const g of rx.got) expectSigned(g, secret);
    expect(rx.got.map((g) => g.headers["x-jit-event"])).toEqual(["request.submitted", "request.decided", "grant.ended", "policy.deployed"]);
    expect(rx.got.map((g) => g.json.type)).toEqual(["request.submitted", "request.decided", "grant.ended", "policy.deployed"]);
    const seqs = rx.got.map((g) => g.json.event.seq as number);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(rx.got.map((g) => g.headers["x-jit-delivery"])).size).toBe(4);
    expect(rx.got[0]!.json.timestamp).toBe(rx.got[0]!.headers["x-jit-timestamp"]);

    const submitted = rx.got[0]!.json;
    expect(submitted).toMatchObject({
      link: `https://jit.example.com/requests/${r.id}`,
      request: { id: r.id, user: "alice", computer: { id: computer.id, name: "build-01" }, app: { path: "/usr/bin/tool" }, justification: "deploy the hotfix to prod" },
    });
    expect(rx.got[1]!.json.request.decision).toEqual({ outcome: "approved", by: "owner@example.com", note: "ok for today" });
    expect(rx.got[2]!.json.event.type).toBe("request.revoked");
    expect(rx.got[3]!.json.policy).toMatchObject({ name: "Build tools" });

    // Nothing more arrives (each event fanned out once, however often the dispatcher runs).
    await s.notifier.dispatchNow();
    await s.notifier.dispatchNow();
    expect(rx.hits).toBe(4);
    const log = await client.notifications.webhooks.deliveries.query({ id: hookId });
    expect(log.deliveries.map((d) => d.status)).toEqual(["delivered", "delivered", "delivered", "delivered"]);
    // The webhook's changes are on the audit trail, without the secret.
    const changed = await s.services.db.selectFrom("events").select(["detail"]).where("type", "=", "webhook.changed").execute();
    expect(changed).toHaveLength(1);
    expect(changed[0]!.detail).not.toContain(secret);
    expect(changed[0]!.detail).not.toContain("/hook");
  });

  it("keeps events for a receiver that is down (503, then closed) and delivers them all, in order, none twice, when it returns", async () => {
    const s = await start();
    const rx = await receiver();
    const { client, submit } = await setUp(s);
    const { id: hookId, secret } = await hook(client, rx.url, "generic", ["request.submitted", "request.decided"]);

    rx.status = 503;
    const first = await submit("first request, receiver answers 503");
    await vi.waitFor(() => expect(rx.hits).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 20 });
    await rx.close();
    // Requests keep working while the receiver is down: nothing waits for it.
    const started = Date.now();
    const second = await submit("second request, receiver closed");
    await client.requests.decline.mutate({ id: first.id, reason: "not now" });
    const third = await submit("third request, receiver closed");
    expect(Date.now() - started).toBeLessThan(5_000);
    await s.notifier.dispatchNow();
    const waiting = await client.notifications.webhooks.deliveries.query({ id: hookId });
    expect(waiting.deliveries).toHaveLength(4);
    expect(waiting.deliveries.every((d) => d.status === "pending")).toBe(true);
    const head = waiting.deliveries.at(-1)!;
    expect(head.attempts).toBeGreaterThanOrEqual(3);
    expect(head.lastStatus === 503 || /reach/.test(head.lastError ?? "")).toBe(true);
    // Later ones wait behind the first: never tried yet.
    expect(waiting.deliveries.slice(0, -1).every((d) => d.attempts === 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));

    rx.status = 200;
    await rx.open();
    await vi.waitFor(() => expect(rx.got).toHaveLength(4), { timeout: 10_000, interval: 50 });
    await s.notifier.dispatchNow();
    expect(rx.got).toHaveLength(4);
    for (const g of rx.got) expectSigned(g, secret);
    expect(rx.got.map((g) => [g.json.type, g.json.request.id])).toEqual([
      ["request.submitted", first.id],
      ["request.submitted", second.id],
      ["request.decided", first.id],
      ["request.submitted", third.id],
    ]);
    expect(new Set(rx.got.map((g) => g.headers["x-jit-delivery"])).size).toBe(4);
    const log = await client.notifications.webhooks.deliveries.query({ id: hookId });
    expect(log.deliveries.every((d) => d.status === "delivered")).toBe(true);
    const list = await client.notifications.webhooks.list.query();
    expect(list.webhooks[0]).toMatchObject({ pending: 0, failed: 0, lastDelivery: { status: "delivered" } });
  });

  it("formats Slack and Teams messages", async () => {
    const s = await start();
    const slack = await receiver();
    const teams = await receiver();
    const { client, submit } = await setUp(s);
    const a = await hook(client, slack.url, "slack", ["request.submitted"]);
    const b = await hook(client, teams.url, "teams", ["request.submitted"]);
    const r = await submit();
    await vi.waitFor(() => expect(slack.got.length + teams.got.length).toBe(2), { timeout: 10_000, interval: 50 });
    expectSigned(slack.got[0]!, a.secret);
    expectSigned(teams.got[0]!, b.secret);
    const sm = slack.got[0]!.json;
    expect(sm.text).toContain("alice on build-01");
    expect(sm.blocks[0]).toMatchObject({ type: "section", text: { type: "mrkdwn" } });
    expect(sm.blocks[0].text.text).toContain("deploy the hotfix to prod");
    expect(sm.blocks.at(-1)).toMatchObject({ type: "actions", elements: [{ type: "button", url: `https://jit.example.com/requests/${r.id}` }] });
    const tm = teams.got[0]!.json;
    expect(tm).toMatchObject({ type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: { type: "AdaptiveCard", version: "1.4" } }] });
    const card = tm.attachments[0].content;
    expect(card.body[0]).toMatchObject({ type: "TextBlock", weight: "Bolder" });
    expect(card.body[2].facts).toEqual(expect.arrayContaining([{ title: "User", value: "alice" }, { title: "Computer", value: "build-01" }]));
    expect(card.actions).toEqual([{ type: "Action.OpenUrl", title: "Open in JIT Access", url: `https://jit.example.com/requests/${r.id}` }]);
  });

  it("tells the webhook when the audit trail fails verification, once per failure", async () => {
    const s = await start();
    const rx = await receiver();
    const { client } = await setUp(s);
    const { secret } = await hook(client, rx.url, "generic", ["audit.verify_failed"]);
    await client.policies.create.mutate(testPolicy({ deploy: false }));
    expect((await client.events.verify.mutate()).ok).toBe(true);
    await sql`update events set detail = ${'{"name":"forged"}'} where seq = 3`.execute(s.services.db);
    expect(await client.events.verify.mutate()).toMatchObject({ ok: false, badSeq: 3 });
    expect(await client.events.verify.mutate()).toMatchObject({ ok: false, badSeq: 3 });
    await s.notifier.dispatchNow();
    await vi.waitFor(() => expect(rx.got).toHaveLength(1), { timeout: 10_000, interval: 50 });
    expectSigned(rx.got[0]!, secret);
    expect(rx.got[0]!.json).toMatchObject({ type: "audit.verify_failed", audit: { badSeq: 3 }, link: "https://jit.example.com/events" });
    expect(rx.got[0]!.json.audit.problem).toMatch(/edited/);
    await s.notifier.dispatchNow();
    expect(rx.got).toHaveLength(1);
  });

  it("the periodic verification (AUDIT_VERIFY_EVERY) reports a new failure once, however often it runs", async () => {
    const s = await startTestServer({ env: { notifyAllowLoopbackHttp: true, auditVerifyEveryMs: 100 }, notify: { pollMs: 100, retry: { baseMs: 20, capMs: 150 } } });
    servers.push(s);
    const rx = await receiver();
    const { client } = await setUp(s);
    await hook(client, rx.url, "generic", ["audit.verify_failed"]);
    await client.policies.create.mutate(testPolicy({ deploy: false }));
    await sql`update events set detail = ${'{"name":"forged"}'} where seq = 2`.execute(s.services.db);
    await vi.waitFor(() => expect(rx.got).toHaveLength(1), { timeout: 10_000, interval: 50 });
    expect(rx.got[0]!.json).toMatchObject({ type: "audit.verify_failed", audit: { badSeq: 2 }, event: { actor: { type: "system", name: "scheduled verification" } } });
    await new Promise((r) => setTimeout(r, 600));
    await s.notifier.dispatchNow();
    expect(rx.got).toHaveLength(1);
  });

  it("fails a refused delivery without retrying and goes on; test sends, rotation, retry now, deletion; only admins", async () => {
    const s = await start();
    const rx = await receiver();
    const { client, submit } = await setUp(s);
    const { id, secret } = await hook(client, rx.url, "generic", ["request.submitted"]);

    const test = await client.notifications.webhooks.sendTest.mutate({ id });
    expect(test).toEqual({ ok: true, status: 200, error: null });
    expectSigned(rx.got[0]!, secret);
    expect(rx.got[0]!.json.type).toBe("test");

    rx.status = 410;
    await submit();
    await vi.waitFor(async () => expect((await client.notifications.webhooks.list.query()).webhooks[0]!.failed).toBe(1), { timeout: 10_000, interval: 50 });
    expect(rx.hits).toBe(2);
    const failed = (await client.notifications.webhooks.deliveries.query({ id })).deliveries[0]!;
    expect(failed).toMatchObject({ status: "failed", attempts: 1, lastStatus: 410 });

    rx.status = 200;
    const { secret: rotated } = await client.notifications.webhooks.rotateSecret.mutate({ id });
    expect(rotated).not.toBe(secret);
    await submit("a later request is not held up");
    await vi.waitFor(() => expect(rx.got).toHaveLength(2), { timeout: 10_000, interval: 50 });
    expectSigned(rx.got[1]!, rotated);
    expect(await client.notifications.webhooks.retryNow.mutate({ id, deliveryId: failed.id })).toEqual({ queued: 1 });
    await vi.waitFor(() => expect(rx.got).toHaveLength(3), { timeout: 10_000, interval: 50 });

    await expect(client.notifications.webhooks.create.mutate({ name: "x", url: "ftp://example.com/", events: ALL, format: "generic" })).rejects.toSatisfy((e) => trpcCode(e) === "BAD_REQUEST");
    await expect(client.notifications.webhooks.create.mutate({ name: "x", url: "https://example.com/", events: [], format: "generic" })).rejects.toThrow(/at least one event/);

    await client.users.create.mutate({ email: "ann@example.com", password: "a long enough password", role: "approver" });
    const { client: ann } = await (await import("../test-support")).signedInClient(s.url, "ann@example.com", "a long enough password");
    await expect(ann.notifications.webhooks.list.query()).rejects.toSatisfy((e) => trpcCode(e) === "FORBIDDEN");

    await client.notifications.webhooks.delete.mutate({ id });
    expect((await client.notifications.webhooks.list.query()).webhooks).toEqual([]);
    await submit("after the webhook is gone");
    await s.notifier.dispatchNow();
    expect(rx.got).toHaveLength(3);
    const actions = (await s.services.db.selectFrom("events").select("detail").where("type", "=", "webhook.changed").orderBy("seq").execute()).map((e) => JSON.parse(e.detail).action);
    expect(actions).toEqual(["created", "secret_rotated", "deleted"]);
  });

  it.runIf(TEST_DB === "postgres")("with two servers on one database, each event reaches the webhook once", async () => {
    const a = await start();
    const b = await start({ shareDatabaseOf: a });
    const rx = await receiver();
    const { client, submit } = await setUp(a);
    await hook(client, rx.url, "generic", ["request.submitted"]);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push((await submit(`request number ${i} for the test`)).id);
      if (i % 2) await Promise.all([a.notifier.dispatchNow(), b.notifier.dispatchNow()]);
    }
    await vi.waitFor(() => expect(rx.got).toHaveLength(6), { timeout: 10_000, interval: 50 });
    await Promise.all([a.notifier.dispatchNow(), b.notifier.dispatchNow(), a.notifier.dispatchNow()]);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.got.map((g) => g.json.request.id)).toEqual(ids);
  });
});
