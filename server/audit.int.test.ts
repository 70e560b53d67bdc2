// The audit trail end to end on a real database (SQLite, or PostgreSQL with TEST_DB=postgres): each action writes
// its event in its own transaction (a failed one writes none), the verifier names the first bad event after raw-SQL
// tampering, the report filters and pages, the export streams CSV and JSON Lines, agents report events
// idempotently, retention prunes behind a signed checkpoint, and SIEM forwarding survives a receiver restart.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentEventInput } from "../core/agent-events";
import type { PolicyFileInput } from "../core/policy";
import { enqueueEvent, flushEvents, pendingEvents } from "../agent/events-queue";
import { StateStore } from "../agent/state";
import { auditArchiveDir } from "./audit-jobs";
import { pruneAudit, verifyChain } from "./services/audit";
import { apiClient, enrollComputer, setUpOwner, signedInClient, startTestServer, TEST_DB, TEST_OWNER, testPolicy, trpcCode, type TestServer } from "./test-support";

const OWNER = TEST_OWNER;
const HASH = "a".repeat(64);
const policy = (over: Partial<PolicyFileInput> = {}): PolicyFileInput => testPolicy(over, HASH);

let srv: TestServer | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  await srv?.stop();
  srv = undefined;
});

async function start(opts: Parameters<typeof startTestServer>[0] = {}) {
  srv = await startTestServer(opts);
  return srv;
}

const owner = (s: TestServer) => setUpOwner(s.url);
const enroll = (s: TestServer, admin: ReturnType<typeof apiClient>, name = "build-01") => enrollComputer(s.url, admin, name);

const postEvents = (s: TestServer, agentToken: string, events: unknown[]) =>
  fetch(`${s.url}/agent/v1/events`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${agentToken}` }, body: JSON.stringify({ events }) });

const agentEvent = (over: Partial<AgentEventInput> = {}): AgentEventInput => ({
  id: randomUUID(),
  type: "elevation_allowed",
  at: new Date().toISOString(),
  user: "alice",
  app: { path: "/opt/tools/build", sha256: HASH, clsid: null },
  source: null,
  reason: "allowed",
  ...over,
});

async function allEvents(s: TestServer) {
  return s.services.db.selectFrom("events").selectAll().orderBy("seq", "asc").execute();
}
async function types(s: TestServer) {
  return (await allEvents(s)).map((e) => e.type);
}

describe(`audit trail on ${TEST_DB}`, () => {
  it("writes each event type with the action that causes it, and none when the action fails", async () => {
    const s = await start();
    await apiClient(s.url).auth.setupOwner.mutate(OWNER);
    expect(await types(s)).toEqual(["user.created", "console.sign_in"]);

    await expect(apiClient(s.url).auth.createCliSession.mutate({ email: OWNER.email, password: "wrong password!" })).rejects.toSatisfy((e) => trpcCode(e) === "UNAUTHORIZED");
    const { client: admin } = await signedInClient(s.url, OWNER.email, OWNER.password);
    expect((await types(s)).slice(-2)).toEqual(["console.sign_in_failed", "console.sign_in"]);

    await admin.users.create.mutate({ email: "aud@example.com", password: "auditor password 1", role: "auditor" });
    const before = (await allEvents(s)).length;
    // A failed action (a console user that exists already) writes nothing.
    await expect(admin.users.create.mutate({ email: "aud@example.com", password: "auditor password 1", role: "auditor" })).rejects.toSatisfy((e) => trpcCode(e) === "CONFLICT");
    await expect(admin.policies.create.mutate({ ...policy(), duration: { type: "fixed", length: "2 hours" } } as unknown as PolicyFileInput)).rejects.toBeTruthy();
    expect((await allEvents(s)).length).toBe(before);

    const { computer, agentToken } = await enroll(s, admin);
    const created = await admin.policies.create.mutate(policy({ deploy: false }));
    const id = created.policy.id;
    await admin.policies.deploy.mutate({ id });
    await admin.policies.upsert.mutate(policy({ users: ["alice", "bob"] }));
    await admin.policies.disable.mutate({ id });

    const allowed = agentEvent({ source: { type: "policy", id, name: "Build tools" } });
    const denied = agentEvent({ type: "elevation_denied", user: "mallory", reason: "no policy allows it" });
    const ended = agentEvent({ type: "grant_ended", source: { type: "grant", id: "g1", name: "request r1" }, requestId: "r1" });
    // A batch with one bad event is refused whole: nothing recorded.
    expect((await postEvents(s, agentToken, [allowed, { ...denied, user: "" }])).status).toBe(400);
    expect((await postEvents(s, "jat_nope", [allowed])).status).toBe(401);
    for (let i = 0; i < 2; i++) {
      const res = await postEvents(s, agentToken, [allowed, denied, ended]);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: [allowed.id, denied.id, ended.id] });
    }
    await admin.events.setRetention.mutate({ days: 400 });
    const settings = await admin.settings.get.query();
    await admin.settings.update.mutate({ ...settings, requests: { ...settings.requests, minJustificationLength: 20 } });
    const entry = await admin.allowlist.add.mutate({ name: "Build tool", rule: { type: "fileHash", sha256: HASH } });
    await admin.allowlist.remove.mutate({ id: entry.id });
    await enroll(s, admin);
    await admin.auth.logout.mutate();

    const rows = await allEvents(s);
    expect(rows.slice(before).map((e) => e.type)).toEqual([
      "enrollment_token.created",
      "computer.enrolled",
      "policy.created",
      "policy.deployed",
      "policy.edited",
      "policy.deployed",
      "policy.disabled",
      "agent.elevation_allowed",
      "agent.elevation_denied",
      "agent.grant_ended",
      "settings.changed",
      "settings.changed",
      "allowlist.changed",
      "allowlist.changed",
      "enrollment_token.created",
      "computer.re_enrolled",
      "console.sign_out",
    ]);
    const edited = rows.find((r) => r.type === "policy.edited")!;
    expect(JSON.parse(edited.detail).diff).toBeTruthy();
    const agentRow = rows.find((r) => r.type === "agent.elevation_allowed")!;
    expect(agentRow).toMatchObject({ id: allowed.id, actor_type: "computer", actor_id: computer.id, actor_name: "build-01", end_user: "alice", computer_id: computer.id, policy_id: id });
    expect(rows.find((r) => r.type === "agent.grant_ended")).toMatchObject({ request_id: "r1", end_user: "alice" });
    expect(rows.every((r, i) => Number(r.seq) === i + 1)).toBe(true);
    expect((await verifyChain(s.services)).ok).toBe(true);
  });

  it("writes the change and its event in one transaction: when the event cannot be written, the change is undone", async () => {
    const s = await start();
    const { client } = await owner(s);
    // A database trigger refuses one event type, as a failing disk or a constraint would.
    if (TEST_DB === "postgres") {
      await sql`create function refuse_event() returns trigger language plpgsql as $$ begin raise exception 'refused'; end $$`.execute(s.services.db);
      await sql`create trigger refuse before insert on events for each row when (new.type = 'policy.created') execute function refuse_event()`.execute(s.services.db);
    } else {
      await sql`create trigger refuse before insert on events when new.type = 'policy.created' begin select raise(abort, 'refused'); end`.execute(s.services.db);
    }
    const before = (await allEvents(s)).length;
    await expect(client.policies.create.mutate(policy({ deploy: true }))).rejects.toBeTruthy();
    expect(await s.services.db.selectFrom("policies").select("id").execute()).toEqual([]);
    expect((await allEvents(s)).length).toBe(before);
  });

  describe("verify names the first bad event after tampering with raw SQL", () => {
    async function seeded() {
      const s = await start();
      const { client } = await owner(s);
      for (let i = 0; i < 5; i++) await client.policies.create.mutate(policy({ name: `P${i}`, deploy: false }));
      const v = await verifyChain(s.services);
      expect(v).toMatchObject({ ok: true, badSeq: null, firstSeq: 1 });
      expect(v.lastSeq).toBe((await allEvents(s)).length);
      return s;
    }

    it("an edited event", async () => {
      const s = await seeded();
      await sql`update events set detail = ${'{"name":"Q"}'} where seq = 4`.execute(s.services.db);
      expect(await verifyChain(s.services)).toMatchObject({ ok: false, badSeq: 4 });
      expect((await verifyChain(s.services)).problem).toMatch(/edited/);
    });

    it("a deleted event", async () => {
      const s = await seeded();
      await sql`delete from events where seq = 3`.execute(s.services.db);
      const v = await verifyChain(s.services);
      expect(v).toMatchObject({ ok: false, badSeq: 3 });
      expect(v.problem).toMatch(/missing/);
    });

    it("a deleted tail, noticed from the signed head of the last verification", async () => {
      const s = await seeded();
      const last = (await allEvents(s)).length;
      await sql`delete from events where seq >= ${last - 1}`.execute(s.services.db);
      expect(await verifyChain(s.services)).toMatchObject({ ok: false, badSeq: last - 1 });
    });

    it("an inserted event", async () => {
      const s = await seeded();
      const rows = await allEvents(s);
      // Make room at seq 3 and insert a forged event that claims to follow event 2.
      await sql`update events set seq = seq + 1000 where seq >= 3`.execute(s.services.db);
      await sql`update events set seq = seq - 999 where seq >= 1003`.execute(s.services.db);
      await sql`insert into events (seq, id, at, type, actor_type, actor_id, actor_name, policy_id, computer_id, request_id, detail, prev_hash, hash)
        values (3, ${randomUUID()}, ${rows[1]!.at}, 'policy.deployed', 'system', null, null, null, null, null, '{}', ${rows[1]!.hash}, ${"f".repeat(64)})`.execute(s.services.db);
      expect(await verifyChain(s.services)).toMatchObject({ ok: false, badSeq: 3 });
    });

    it("two events swapped", async () => {
      const s = await seeded();
      await sql`update events set seq = 1000 where seq = 4`.execute(s.services.db);
      await sql`update events set seq = 4 where seq = 5`.execute(s.services.db);
      await sql`update events set seq = 5 where seq = 1000`.execute(s.services.db);
      expect(await verifyChain(s.services)).toMatchObject({ ok: false, badSeq: 4 });
    });
  });

  it("lists with filters and keyset pages, and exports the filtered set as CSV and JSON Lines", async () => {
    const s = await start();
    const { client, token } = await owner(s);
    const { agentToken, computer } = await enroll(s, client);
    const batch = Array.from({ length: 30 }, (_, i) => agentEvent({ user: i % 3 === 0 ? "bob" : "alice", type: i % 2 ? "elevation_denied" : "elevation_allowed" }));
    expect((await postEvents(s, agentToken, batch)).status).toBe(200);

    const first = await client.events.list.query({ limit: 7 });
    expect(first.events).toHaveLength(7);
    expect(first.events[0]!.seq).toBeGreaterThan(first.events[6]!.seq);
    const seen = [...first.events];
    let before = first.nextBefore;
    while (before !== null) {
      const page = await client.events.list.query({ limit: 7, before });
      seen.push(...page.events);
      before = page.nextBefore;
    }
    const total = (await allEvents(s)).length;
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => total - i));

    const bobDenied = await client.events.list.query({ filter: { endUser: "bob", types: ["agent.elevation_denied"], computerId: computer.id } });
    expect(bobDenied.events.length).toBe(batch.filter((e, i) => e.user === "bob" && i % 2).length);
    expect(bobDenied.events.every((e) => e.endUser === "bob" && e.type === "agent.elevation_denied" && e.actor.name === "build-01")).toBe(true);
    const byConsoleUser = await client.events.list.query({ filter: { consoleUser: OWNER.email } });
    expect(byConsoleUser.events.map((e) => e.type).sort()).toEqual(["console.sign_in", "console.sign_in", "enrollment_token.created"]);
    const future = await client.events.list.query({ filter: { from: new Date(Date.now() + 3600_000).toISOString() } });
    expect(future.events).toHaveLength(0);

    // Justifications are searched word by word, case-insensitively.
    await s.services.db.transaction().execute(async (trx) => {
      const { appendEvent } = await import("./services/events");
      await appendEvent(trx, s.services.dialect, { type: "request.submitted", actor: { type: "computer", id: computer.id, name: "build-01" }, endUser: "carol", computerId: computer.id, detail: { justification: "Need to patch the 100% broken Build server" } }, new Date());
    });
    expect((await client.events.list.query({ filter: { text: "build PATCH" } })).events.map((e) => e.endUser)).toEqual(["carol"]);
    expect((await client.events.list.query({ filter: { text: "100%" } })).events).toHaveLength(1);
    expect((await client.events.list.query({ filter: { text: "10_%" } })).events).toHaveLength(0);

    const unauth = await fetch(`${s.url}/api/export/events?format=csv`);
    expect(unauth.status).toBe(401);
    const csv = await fetch(`${s.url}/api/export/events?format=csv&endUser=bob&type=agent.elevation_denied`, { headers: { authorization: `Bearer ${token}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    expect(csv.headers.get("content-disposition")).toMatch(/attachment; filename="jit-events-.*\.csv"/);
    const lines = (await csv.text()).replace(/^\ufeff/, "").trimEnd().split("\r\n");
    expect(lines[0]).toBe("seq,time,type,event,actor_type,actor,end_user,computer_id,policy_id,request_id,justification,detail,hash");
    expect(lines.length - 1).toBe(bobDenied.events.length);
    const jsonl = await fetch(`${s.url}/api/export/events?format=jsonl`, { headers: { authorization: `Bearer ${token}` } });
    const parsed = (await jsonl.text()).trimEnd().split("\n").map((l) => JSON.parse(l) as { seq: number });
    expect(parsed.map((e) => e.seq)).toEqual(Array.from({ length: parsed.length }, (_, i) => i + 1));
    expect((await fetch(`${s.url}/api/export/events?format=xml`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(400);
    expect((await fetch(`${s.url}/api/export/events?from=yesterday`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(400);
  });

  it("an agent's queued reports stay on its disk until the server acknowledges them, and count once", async () => {
    const s = await start();
    const { client } = await owner(s);
    const { agentToken, computer } = await enroll(s, client);
    const dir = mkdtempSync(join(tmpdir(), "jit-agent-q-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = new StateStore(dir);
    // First pointed at a server that is not there: the send fails and the events stay queued.
    await store.saveConfig({ server: "http://127.0.0.1:9", computer: { id: computer.id, name: "build-01" }, agentToken, publicKey: "k", keyId: "k", enrolledAt: new Date().toISOString() });
    for (let i = 0; i < 250; i++) await enqueueEvent(store, { type: i % 2 ? "elevation_denied" : "elevation_allowed", at: new Date().toISOString(), user: `u${i}` });
    await expect(flushEvents(store)).rejects.toThrow(/cannot send events/);
    expect(await pendingEvents(store, 1000)).toHaveLength(250);
    // A batch the server already has (sent once, answer lost) is recorded once.
    const firstBatch = (await pendingEvents(store)).map((q) => q.event);
    expect((await postEvents(s, agentToken, firstBatch)).status).toBe(200);
    await store.saveConfig({ server: s.url, computer: { id: computer.id, name: "build-01" }, agentToken, publicKey: "k", keyId: "k", enrolledAt: new Date().toISOString() });
    expect(await flushEvents(store)).toBe(250);
    expect(await pendingEvents(store)).toHaveLength(0);
    const agentRows = (await allEvents(s)).filter((e) => e.type.startsWith("agent."));
    expect(agentRows).toHaveLength(250);
    expect(new Set(agentRows.map((r) => r.end_user)).size).toBe(250);
  });

  it("records a request's life with the end user and justification, found by the report's filters", async () => {
    const s = await start();
    const { client } = await owner(s);
    const { agentToken, computer } = await enroll(s, client);
    const submit = async (justification: string) => {
      const res = await fetch(`${s.url}/agent/v1/requests`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${agentToken}` },
        body: JSON.stringify({ user: "alice", app: { path: "/opt/tools/build", sha256: HASH }, duration: "30m", justification }),
      });
      expect(res.status).toBeLessThan(300);
    };
    await submit("Deploy the quarterly hotfix to billing");
    await submit("Rotate printer drivers");
    const pending = (await client.requests.list.query({ status: "pending" })).requests;
    const hotfix = pending.find((r) => r.justification.includes("hotfix"))!;
    const printer = pending.find((r) => r.justification.includes("printer"))!;
    await client.requests.approve.mutate({ id: hotfix.id, duration: "15m" });
    await client.requests.revoke.mutate({ id: hotfix.id });
    await client.requests.decline.mutate({ id: printer.id, reason: "use the print server" });

    const life = await client.events.list.query({ filter: { requestId: hotfix.id } });
    expect(life.events.map((e) => e.type)).toEqual(["request.revoked", "request.approved", "request.submitted"]);
    expect(life.events.every((e) => e.endUser === "alice" && e.computerId === computer.id)).toBe(true);
    expect(life.events[1]!.actor).toMatchObject({ type: "user", name: OWNER.email });
    expect(life.events[2]!.actor).toMatchObject({ type: "computer", name: "build-01" });
    const found = await client.events.list.query({ filter: { text: "QUARTERLY hotfix", endUser: "alice" } });
    expect(found.events.map((e) => e.requestId)).toEqual([hotfix.id]);
    const declined = await client.events.list.query({ filter: { types: ["request.declined"], consoleUser: OWNER.email } });
    expect(declined.events.map((e) => e.requestId)).toEqual([printer.id]);
    expect((await verifyChain(s.services)).ok).toBe(true);
  });

  it("`jit-server audit verify` exits 0 on an intact chain and 1, naming the event, on a tampered one", async () => {
    const s = await start();
    const { client } = await owner(s);
    for (let i = 0; i < 3; i++) await client.policies.create.mutate(policy({ name: `P${i}`, deploy: false }));
    const env = { ...process.env, DATA_DIR: s.dataDir, ...(s.databaseUrl ? { DATABASE_URL: s.databaseUrl } : {}), LOG_LEVEL: "silent" };
    const cli = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(process.execPath, [join(import.meta.dirname, "..", "bin", "jit-server.mjs"), "audit", "verify"], { env });
        let out = "";
        p.stdout.on("data", (d: Buffer) => (out += d.toString()));
        p.stderr.on("data", (d: Buffer) => (out += d.toString()));
        p.on("exit", (code) => resolve({ code, out }));
      });
    const ok = await cli();
    expect(ok.out).toMatch(/audit trail intact: \d+ events checked/);
    expect(ok.code).toBe(0);
    await sql`update events set actor_name = ${"someone@else"} where seq = 3`.execute(s.services.db);
    const bad = await cli();
    expect(bad.out).toMatch(/audit trail BROKEN at event #3: event #3 was edited/);
    expect(bad.code).toBe(1);
    // The console shows the last verification.
    expect((await client.events.lastVerification.query()).verification).toMatchObject({ ok: false, badSeq: 3, by: "jit-server audit verify" });
  });

  it("sends syslog over UDP too", async () => {
    const { createSocket } = await import("node:dgram");
    const sock = createSocket("udp4");
    const got: string[] = [];
    sock.on("message", (m) => got.push(m.toString("utf8")));
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
    const s = await start({ env: { auditSyslog: { protocol: "udp", host: "127.0.0.1", port: sock.address().port } } });
    await owner(s);
    const seq = Number((await allEvents(s)).at(-1)!.seq);
    await s.audit.forwarders[0]!.caughtUp(seq);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.map((m) => Number(/seq="(\d+)"/.exec(m)![1]))).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
  });

  it("prunes old segments behind a signed checkpoint, and the rest of the chain still verifies", async () => {
    let clock = new Date("2026-01-01T00:00:00Z");
    const s = await start({ now: () => clock });
    const { client: early } = await owner(s);
    for (let i = 0; i < 4; i++) await early.policies.create.mutate(policy({ name: `Old ${i}`, deploy: false }));
    const oldCount = (await allEvents(s)).length;
    clock = new Date("2026-03-01T00:00:00Z");
    const { client } = await signedInClient(s.url, OWNER.email, OWNER.password);
    for (let i = 0; i < 3; i++) await client.policies.create.mutate(policy({ name: `New ${i}`, deploy: false }));
    const total = (await allEvents(s)).length;

    const r = await pruneAudit(s.services, { archiveDir: auditArchiveDir(s.dataDir), before: new Date("2026-02-01T00:00:00Z") });
    expect(r).toMatchObject({ pruned: oldCount, fromSeq: 1, toSeq: oldCount });
    if (!("archiveFile" in r)) throw new Error("expected an archive");
    const archived = readFileSync(r.archiveFile, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as { seq: number; type: string });
    expect(archived.map((e) => e.seq)).toEqual(Array.from({ length: oldCount }, (_, i) => i + 1));
    const left = await allEvents(s);
    expect(Number(left[0]!.seq)).toBe(oldCount + 1);
    expect(left.at(-1)!.type).toBe("audit.segment_pruned");
    expect(left.length).toBe(total - oldCount + 1);
    expect(left[0]!.type).toBe("console.sign_in");
    expect(await verifyChain(s.services)).toMatchObject({ ok: true, checkpointSeq: oldCount, firstSeq: oldCount + 1 });
    // Nothing more to prune; a forged checkpoint is caught.
    expect((await pruneAudit(s.services, { archiveDir: auditArchiveDir(s.dataDir), before: new Date("2026-02-01T00:00:00Z") })).pruned).toBe(0);
    await sql`update audit_checkpoints set hash = ${"0".repeat(64)}`.execute(s.services.db);
    expect(await verifyChain(s.services)).toMatchObject({ ok: false, badSeq: oldCount + 1 });
  });

  it("forwards every event, in order, to a file and to a TCP syslog receiver across its restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jit-siem-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const received: string[] = [];
    let buffer = "";
    const sockets = new Set<Socket>();
    const listen = (port: number) =>
      new Promise<Server>((resolve) => {
        const server = createServer((sock) => {
          sockets.add(sock);
          sock.on("close", () => sockets.delete(sock));
          sock.on("data", (d) => {
            buffer += d.toString("utf8");
            // RFC 6587 octet counting: "<length> <message>"
            for (;;) {
              const m = /^(\d+) /.exec(buffer);
              if (!m) break;
              const len = Number(m[1]);
              const body = Buffer.from(buffer.slice(m[0].length));
              if (body.length < len) break;
              received.push(body.subarray(0, len).toString("utf8"));
              buffer = body.subarray(len).toString("utf8");
            }
          });
        });
        server.listen(port, "127.0.0.1", () => resolve(server));
      });
    let receiver = await listen(0);
    const port = (receiver.address() as { port: number }).port;
    const stopReceiver = async () => {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => receiver.close(() => r()));
      buffer = "";
    };
    cleanups.push(() => (receiver.listening ? stopReceiver() : undefined));

    const auditFile = join(dir, "audit.jsonl");
    const s = await start({ env: { auditFile, auditSyslog: { protocol: "tcp", host: "127.0.0.1", port } } });
    const { client } = await owner(s);
    const maxSeq = async () => Number((await allEvents(s)).at(-1)!.seq);
    const caughtUp = async () => {
      const seq = await maxSeq();
      await Promise.all(s.audit.forwarders.map((f) => f.caughtUp(seq)));
    };
    await client.policies.create.mutate(policy({ name: "A", deploy: false }));
    await caughtUp();

    await stopReceiver();
    // The request path does not wait for the receiver.
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await client.policies.create.mutate(policy({ name: `While down ${i}`, deploy: false }));
    expect(Date.now() - t0).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, 300));
    receiver = await listen(port);
    for (let i = 0; i < 3; i++) await client.policies.create.mutate(policy({ name: `After ${i}`, deploy: false }));
    await caughtUp();

    const total = await maxSeq();
    // "Sent" means the socket took the bytes; the receiver's side of loopback may still be reading them.
    const deadline = Date.now() + 5_000;
    while (!received.some((m) => m.includes(`seq="${total}"`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const seqs = received.map((m) => {
      expect(m).toMatch(/^<1(09|10)>1 \d{4}-\d\d-\d\dT\S+ \S+ jit-access \d+ \S+ \[jit@32473 seq="\d+" id="[^"]+"\] \{/);
      return Number(/seq="(\d+)"/.exec(m)![1]);
    });
    // At-least-once and in order: after dropping repeats, every event exactly once, ascending.
    const firstSeen: number[] = [];
    for (const q of seqs) if (!firstSeen.includes(q)) firstSeen.push(q);
    expect(firstSeen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (let i = 1; i < seqs.length; i++) if (seqs[i]! < seqs[i - 1]!) expect(seqs.slice(0, i)).toContain(seqs[i]);

    expect(existsSync(auditFile)).toBe(true);
    const fileSeqs = readFileSync(auditFile, "utf8").trimEnd().split("\n").map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(fileSeqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });
});
