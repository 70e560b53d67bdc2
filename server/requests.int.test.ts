// Elevation requests end to end over HTTP on a real database (SQLite, or PostgreSQL with TEST_DB=postgres):
// submit through the agent protocol, decide through tRPC, grants in the bundle, the sweeper, races, the live stream.
import pino from "pino";
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Bundle } from "../core/bundle";
import type { AgentRequestView } from "../core/protocol";
import type { SettingsInput } from "../core/settings";
import { SettingsSchema } from "../core/settings";
import { startServer, type RunningServer } from "./app";
import type { AppRouter } from "./routers";
import { apiClient, enrollComputer, setUpOwner, signedInClient, startTestServer, TEST_DB, TEST_OWNER, trpcCode, type TestServer } from "./test-support";

const OWNER = TEST_OWNER;
const PASSWORD = "a long enough password";
const SHA = "b".repeat(64);
const T0 = Date.parse("2026-03-02T10:00:00.000Z");

let clock = T0;
const now = () => new Date(clock);
let srv: TestServer;
let owner: ReturnType<typeof apiClient>;
let agentToken: string;
let computerId: string;

beforeEach(async () => {
  clock = T0;
  srv = await startTestServer({ now });
  owner = (await setUpOwner(srv.url)).client;
  const body = await enrollComputer(srv.url, owner);
  agentToken = body.agentToken;
  computerId = body.computer.id;
});
afterEach(async () => {
  await srv.stop();
});

async function agentCall(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}, server = srv.url) {
  const res = await fetch(`${server}/agent/v1${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${agentToken}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function submit(over: Record<string, unknown> = {}): Promise<AgentRequestView> {
  const r = await agentCall("/requests", {
    method: "POST",
    body: { user: "alice", app: { path: "/usr/bin/tool", sha256: SHA }, duration: "30m", justification: "deploy the hotfix to prod", ...over },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as AgentRequestView;
}

async function bundle(): Promise<Bundle> {
  const r = await agentCall("/bundle");
  return r.body.bundle as Bundle;
}

async function person(email: string, role: "owner" | "admin" | "approver" | "auditor") {
  await owner.users.create.mutate({ email, password: PASSWORD, role });
  return (await signedInClient(srv.url, email, PASSWORD)).client;
}

async function settings(patch: SettingsInput) {
  await owner.settings.update.mutate(SettingsSchema.parse(patch));
}

async function events(requestId: string) {
  return (await srv.services.db.selectFrom("events").select(["type", "actor_name"]).where("request_id", "=", requestId).orderBy("seq").execute()).map((e) => e.type);
}

describe(`requests on ${TEST_DB}`, () => {
  it("runs the lifecycle: submit, approve (shorter), grant in the bundle, applied, revoke, events", async () => {
    const r = await submit();
    expect(r).toMatchObject({ status: "pending", user: "alice", requestedDuration: "30m", approvalsNeeded: 1 });
    const pending = await owner.requests.list.query({ status: "pending" });
    expect(pending.requests.map((x) => x.id)).toEqual([r.id]);
    expect(pending.requests[0]!.computer).toEqual({ id: computerId, name: "build-01" });

    await expect(owner.requests.approve.mutate({ id: r.id, duration: "1h" })).rejects.toSatisfy((e) => trpcCode(e) === "BAD_REQUEST");
    const { request } = await owner.requests.approve.mutate({ id: r.id, duration: "15m", note: "ok for today" });
    expect(request).toMatchObject({ status: "approved", grantedDuration: "15m", note: "ok for today", decidedBy: { type: "user", name: OWNER.email } });
    expect(request.startsAt).toBe(new Date(T0).toISOString());
    expect(request.endsAt).toBe(new Date(T0 + 15 * 60_000).toISOString());
    expect(request.applied.bundleVersion).toBeGreaterThan(0);
    expect(request.applied.appliedAt).toBeNull();

    const b = await bundle();
    expect(b.grants).toEqual([{ id: `grant-${r.id}`, requestId: r.id, user: "alice", applications: [{ type: "fileHash", sha256: SHA }], startsAt: request.startsAt, endsAt: request.endsAt }]);
    expect(b.requests).toEqual({ enabled: true, maxDuration: "8h", minJustificationLength: 10 });
    // The agent reports holding that version: the decision is applied on the computer.
    await agentCall("/bundle", { headers: { "x-bundle-version": String(b.version) } });
    const applied = await owner.requests.get.query({ id: r.id });
    expect(applied.applied).toMatchObject({ bundleVersion: b.version, appliedAt: new Date(T0).toISOString() });
    expect(applied.applied.computerLastSeenAt).not.toBeNull();

    await expect(owner.requests.decline.mutate({ id: r.id, reason: "no" })).rejects.toThrow(/Already approved by owner@example.com at 10:00/);
    const revoked = (await owner.requests.revoke.mutate({ id: r.id, reason: "done with it" })).request;
    expect(revoked).toMatchObject({ status: "revoked", revokedBy: { type: "user", name: OWNER.email }, revokeReason: "done with it", endsAt: new Date(T0).toISOString() });
    expect(revoked.applied.bundleVersion).toBeGreaterThan(b.version);
    expect((await bundle()).grants).toEqual([]);
    await expect(owner.requests.revoke.mutate({ id: r.id })).rejects.toSatisfy((e) => trpcCode(e) === "CONFLICT");
    expect(await events(r.id)).toEqual(["request.submitted", "request.approved", "request.revoked"]);
    expect((await owner.requests.list.query({ status: "history" })).requests.map((x) => x.id)).toEqual([r.id]);
  });

  it("declines, cancels, lapses, expires once, and ends early", async () => {
    await settings({ requests: { lapseAfter: "1h" } });
    const declined = await submit();
    const d = (await owner.requests.decline.mutate({ id: declined.id, reason: "use the staging box" })).request;
    expect(d).toMatchObject({ status: "declined", declineReason: "use the staging box", decidedBy: { name: OWNER.email } });

    const cancelled = await submit();
    expect((await agentCall(`/requests/${cancelled.id}/cancel`, { method: "POST" })).body.status).toBe("cancelled");
    await expect(owner.requests.approve.mutate({ id: cancelled.id })).rejects.toThrow(/Already cancelled by alice/);

    const lapsing = await submit();
    const expiring = await submit({ duration: "1m" });
    await owner.requests.approve.mutate({ id: expiring.id });
    const early = await submit();
    await owner.requests.approve.mutate({ id: early.id });
    const done = await agentCall(`/requests/${early.id}/done`, { method: "POST" });
    expect(done.body).toMatchObject({ status: "revoked", revokedBy: { type: "enduser", name: "alice" } });
    expect((await bundle()).grants.map((g) => g.requestId)).toEqual([expiring.id]);

    clock = T0 + 2 * 60_000;
    expect(await srv.sweeper.sweepNow()).toEqual({ expired: 1, lapsed: 0 });
    expect((await owner.requests.get.query({ id: expiring.id })).status).toBe("expired");
    expect((await bundle()).grants).toEqual([]);
    clock = T0 + 61 * 60_000;
    // Past its lapse time it cannot be decided, even before the sweeper marks it.
    await expect(owner.requests.approve.mutate({ id: lapsing.id })).rejects.toThrow(/lapsed at 11:00 UTC/);
    expect(await srv.sweeper.sweepNow()).toEqual({ expired: 0, lapsed: 1 });
    expect((await owner.requests.get.query({ id: lapsing.id })).status).toBe("lapsed");
    expect(await srv.sweeper.sweepNow()).toEqual({ expired: 0, lapsed: 0 });

    expect(await events(declined.id)).toEqual(["request.submitted", "request.declined"]);
    expect(await events(cancelled.id)).toEqual(["request.submitted", "request.cancelled"]);
    expect(await events(lapsing.id)).toEqual(["request.submitted", "request.lapsed"]);
    expect(await events(expiring.id)).toEqual(["request.submitted", "request.approved", "request.expired"]);
    expect(await events(early.id)).toEqual(["request.submitted", "request.approved", "request.ended_early"]);
  });

  it("enforces the rules: maximum, justification, self-approval, auditors, agent scope", async () => {
    const tooLong = await agentCall("/requests", { method: "POST", body: { user: "alice", app: { path: "/x", sha256: SHA }, duration: "9h", justification: "a long enough reason" } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(/longer than the maximum of 8 hours/);
    const short = await agentCall("/requests", { method: "POST", body: { user: "alice", app: { path: "/x", sha256: SHA }, duration: "1h", justification: "pls" } });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toMatch(/at least 10 characters/);
    expect((await agentCall("/requests", { headers: { authorization: "Bearer jat_nope" } })).status).toBe(401);

    const r = await submit();
    const alice = await person("alice@example.com", "approver");
    await expect(alice.requests.approve.mutate({ id: r.id })).rejects.toSatisfy((e) => trpcCode(e) === "FORBIDDEN");
    const auditor = await person("audrey@example.com", "auditor");
    expect((await auditor.requests.list.query({})).requests).toHaveLength(1);
    await expect(auditor.requests.approve.mutate({ id: r.id })).rejects.toSatisfy((e) => trpcCode(e) === "FORBIDDEN");
    await expect(auditor.settings.update.mutate(await owner.settings.get.query())).rejects.toSatisfy((e) => trpcCode(e) === "FORBIDDEN");

    const mine = await agentCall("/requests?user=ALICE");
    expect(mine.body.requests.map((x: AgentRequestView) => x.id)).toEqual([r.id]);
    expect((await agentCall("/requests?user=bob")).body.requests).toEqual([]);

    await settings({ requests: { enabled: false } });
    expect((await bundle()).requests?.enabled).toBe(false);
    expect((await agentCall("/requests", { method: "POST", body: { user: "alice", app: { path: "/x", sha256: SHA }, duration: "1h", justification: "a long enough reason" } })).status).toBe(403);
    const ev = await srv.services.db.selectFrom("events").select(["detail"]).where("type", "=", "settings.changed").execute();
    expect(JSON.parse(ev.at(-1)!.detail).changes).toEqual([{ path: "requests.enabled", from: true, to: false }]);
  });

  it("needs two different people for two-person approval; one decline ends it", async () => {
    await settings({ twoPersonApproval: { enabled: true, approvalsRequired: 2, highRiskApplications: [{ type: "fileHash", sha256: SHA }] } });
    const dana = await person("dana@example.com", "admin");
    const erin = await person("erin@example.com", "approver");
    const r = await submit();
    expect(r.approvalsNeeded).toBe(2);
    const first = (await dana.requests.approve.mutate({ id: r.id })).request;
    expect(first).toMatchObject({ status: "pending", approvals: [{ email: "dana@example.com" }] });
    expect((await bundle()).grants).toEqual([]);
    await expect(dana.requests.approve.mutate({ id: r.id })).rejects.toThrow(/already approved this request/);
    const second = (await erin.requests.approve.mutate({ id: r.id })).request;
    expect(second.status).toBe("approved");
    expect(second.approvals.map((a) => a.email)).toEqual(["dana@example.com", "erin@example.com"]);
    expect(await events(r.id)).toEqual(["request.submitted", "request.approval_recorded", "request.approved"]);

    const r2 = await submit();
    await dana.requests.approve.mutate({ id: r2.id });
    expect((await erin.requests.decline.mutate({ id: r2.id, reason: "too risky" })).request.status).toBe("declined");
  });

  it("approves at once by an Autonomous Approval rule, and extends an active grant", async () => {
    await settings({
      autonomousApproval: { enabled: true, rules: [{ id: "r1", name: "Build tools", users: ["alice"], applications: [{ type: "fileHash", sha256: SHA }], computers: ["build-*"], maxDuration: "1h" }] },
    });
    const auto = await submit({ duration: "1h" });
    expect(auto).toMatchObject({ status: "approved", decidedBy: { type: "rule", id: "r1", name: "Build tools" } });
    expect((await bundle()).grants.map((g) => g.requestId)).toEqual([auto.id]);
    const waits = await submit({ duration: "2h" });
    expect(waits.status).toBe("pending");

    // An extension is decided like any other request (here by the same rule) and runs on from the grant's end.
    const ext = await submit({ duration: "30m", extendsRequestId: auto.id, justification: "need a bit more time" });
    expect(ext).toMatchObject({ extendsRequestId: auto.id, status: "approved" });
    expect(ext.endsAt).toBe(new Date(T0 + 90 * 60_000).toISOString());
    await settings({ autonomousApproval: { enabled: false, rules: [] } });
    const ext2 = await submit({ duration: "15m", extendsRequestId: auto.id, justification: "and a little more" });
    const approved = (await owner.requests.approve.mutate({ id: ext2.id })).request;
    expect(approved.endsAt).toBe(new Date(T0 + 75 * 60_000).toISOString());
  });

  it("records a queued submission once (clientRef) and long-polls a request until it is decided", async () => {
    const a = await submit({ clientRef: "queued-0001" });
    const b = await submit({ clientRef: "queued-0001" });
    expect(b.id).toBe(a.id);
    const started = Date.now();
    const waiting = agentCall(`/requests/${a.id}?wait=20`);
    await new Promise((r) => setTimeout(r, 150));
    await owner.requests.approve.mutate({ id: a.id });
    const answered = await waiting;
    expect(answered.body.status).toBe("approved");
    expect(Date.now() - started).toBeLessThan(2_000);
    const timedOut = await agentCall(`/requests/${(await submit()).id}?wait=1`);
    expect(timedOut.body.status).toBe("pending");
  });

  it("streams request changes to the console over SSE", async () => {
    const { token } = await signedInClient(srv.url, OWNER.email, OWNER.password);
    const client = createTRPCClient<AppRouter>({
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
    const seen: string[][] = [];
    let started!: () => void;
    const ready = new Promise<void>((r) => (started = r));
    const sub = client.requests.changes.subscribe(undefined, { onStarted: () => started(), onData: (d) => seen.push(d.ids) });
    await ready;
    await new Promise((r) => setTimeout(r, 100));
    const r = await submit();
    for (let i = 0; i < 50 && !seen.flat().includes(r.id); i++) await new Promise((res) => setTimeout(res, 20));
    sub.unsubscribe();
    expect(seen.flat()).toContain(r.id);
  });

  it("leaves exactly one decision when many people decide one request at once (200 times)", async () => {
    const deciders = await Promise.all(["a1@example.com", "a2@example.com", "a3@example.com", "a4@example.com"].map((e) => person(e, "approver")));
    const rounds = 200;
    for (let i = 0; i < rounds; i++) {
      const r = await submit();
      const results = await Promise.allSettled(
        deciders.flatMap((c, j) => [c.requests.approve.mutate({ id: r.id }), c.requests.decline.mutate({ id: r.id, reason: `no ${j}` })]),
      );
      const ok = results.filter((x) => x.status === "fulfilled");
      expect(ok).toHaveLength(1);
      for (const x of results) if (x.status === "rejected") expect(String(x.reason)).toMatch(/Already (approved|declined) by a\d@example.com/);
    }
    const decided = await srv.services.db.selectFrom("events").select(["type"]).where("type", "in", ["request.approved", "request.declined"]).execute();
    expect(decided).toHaveLength(rounds);
  }, 120_000);

  it("ends on start a grant whose time passed while the server was down, once", async () => {
    const r = await submit({ duration: "1m" });
    await owner.requests.approve.mutate({ id: r.id });
    await srv.close();
    clock = T0 + 5 * 60_000;
    const restart = (): Promise<RunningServer> =>
      startServer(
        { port: 0, host: "127.0.0.1", dataDir: srv.dataDir, databaseUrl: srv.databaseUrl, publicUrl: null, admin: null, pgPoolMax: 5, logLevel: "silent", dev: false } as Parameters<typeof startServer>[0],
        { withNext: false, now, log: pino({ level: "silent" }) },
      );
    const second = await restart();
    try {
      for (let i = 0; i < 100; i++) {
        const row = await second.services.db.selectFrom("requests").select("status").where("id", "=", r.id).executeTakeFirstOrThrow();
        if (row.status === "expired") break;
        await new Promise((res) => setTimeout(res, 20));
      }
      await second.sweeper.sweepNow();
      const types = (await second.services.db.selectFrom("events").select("type").where("request_id", "=", r.id).execute()).map((e) => e.type);
      expect(types).toEqual(["request.submitted", "request.approved", "request.expired"]);
    } finally {
      await second.close();
    }
    const third = await restart();
    try {
      await third.sweeper.sweepNow();
      expect(await third.services.db.selectFrom("events").select("type").where("type", "=", "request.expired").execute()).toHaveLength(1);
    } finally {
      await third.close();
    }
  });
});
