// One sweeper at a time across servers: ten servers on one PostgreSQL database, 500 grants ending in the same
// second, servers stopping and starting around it. Each grant ends exactly once (one request.expired event), on time.
import { afterEach, describe, expect, it } from "vitest";
import { verifyChain } from "./services/audit";
import { newId } from "./util";
import { apiClient, signedInClient, startTestServer, TEST_DB, type TestServer } from "./test-support";

const OWNER = { email: "owner@example.com", password: "correct horse battery" };
const GRANTS = 500;
const COMPUTERS = 10;

let first: TestServer | null = null;
const others: TestServer[] = [];
afterEach(async () => {
  // The first server last: it drops the shared database.
  for (const s of others.splice(0)) await s.stop();
  await first?.stop();
  first = null;
});

const start = (a: TestServer) => startTestServer({ shareDatabaseOf: a, env: { pgPoolMax: 3 } });

describe.skipIf(TEST_DB !== "postgres")("ten sweepers, one PostgreSQL", () => {
  it("ends each of 500 grants falling due in the same second exactly once, none more than 1 s late", async () => {
    const a = (first = await startTestServer({ env: { pgPoolMax: 3 } }));
    await apiClient(a.url).auth.setupOwner.mutate(OWNER);
    const owner = (await signedInClient(a.url, OWNER.email, OWNER.password)).client;
    const computerIds: string[] = [];
    for (let i = 0; i < COMPUTERS; i++) {
      const { token } = await owner.computers.createEnrollmentToken.mutate();
      const res = await fetch(`${a.url}/agent/v1/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token, name: `build-${i}`, os: "linux", agentVersion: "0.1.0" }),
      });
      computerIds.push(((await res.json()) as { computer: { id: string } }).computer.id);
    }
    for (let i = 0; i < 9; i++) others.push(await start(a));

    // 500 approved grants, all ending at the same moment, spread over the computers.
    const now = Date.now();
    const endsAt = new Date(now + 3_000).toISOString();
    const rows = Array.from({ length: GRANTS }, (_, i) => ({
      id: newId(),
      computer_id: computerIds[i % COMPUTERS]!,
      end_user: `user${i}`,
      app: JSON.stringify({ path: "/usr/bin/tool", sha256: "a".repeat(64) }),
      requested_duration: "1h",
      justification: "scale test of the expiry sweeper",
      status: "approved",
      created_at: new Date(now).toISOString(),
      updated_at: new Date(now).toISOString(),
      lapses_at: null,
      decided_at: new Date(now).toISOString(),
      decided_by: JSON.stringify({ type: "user", id: "u", name: OWNER.email }),
      approvals: "[]",
      approvals_needed: 1,
      granted_duration: "1h",
      starts_at: new Date(now).toISOString(),
      ends_at: endsAt,
      note: null,
      decline_reason: null,
      revoked_by: null,
      revoke_reason: null,
      extends_request_id: null,
      client_ref: null,
      decision_bundle_version: null,
      applied_at: null,
      version: 2,
    }));
    for (let i = 0; i < rows.length; i += 100) await a.services.db.insertInto("requests").values(rows.slice(i, i + 100)).execute();
    // Tell every server's sweeper (through the change feed) that new deadlines exist.
    a.services.feed.publish({ kind: "requests", ids: rows.slice(0, 50).map((r) => r.id) });

    // Servers come and go around the deadline: two stop just before it, one new one starts.
    await new Promise((r) => setTimeout(r, Date.parse(endsAt) - Date.now() - 300));
    await Promise.all(others.splice(0, 2).map((s) => s.stop()));
    others.push(await start(a));

    // When the ends are committed (visible to every server), not only the time their events carry.
    const deadline = Date.now() + 20_000;
    let allEndedAt = Infinity;
    for (;;) {
      const left = await a.services.db.selectFrom("requests").select((eb) => eb.fn.countAll<string>().as("n")).where("status", "=", "approved").executeTakeFirstOrThrow();
      if (Number(left.n) === 0) allEndedAt = Date.now();
      if (Number(left.n) === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const expired = await a.services.db.selectFrom("events").select(["request_id", "at"]).where("type", "=", "request.expired").execute();
    const perRequest = new Map<string, number>();
    for (const e of expired) perRequest.set(e.request_id!, (perRequest.get(e.request_id!) ?? 0) + 1);
    expect(perRequest.size).toBe(GRANTS);
    expect([...perRequest.values()].every((n) => n === 1)).toBe(true);
    const lateness = expired.map((e) => Date.parse(e.at) - Date.parse(endsAt));
    const worst = Math.max(...lateness);
    const committed = allEndedAt - Date.parse(endsAt);
    console.log(`500 grants: expiry events ${Math.min(...lateness)}–${worst} ms after the deadline; all ends committed ${committed} ms after it`);
    expect(committed).toBeLessThanOrEqual(1_000);
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    expect(worst).toBeLessThanOrEqual(1_000);
    const ended = await a.services.db.selectFrom("requests").select(["status"]).where("status", "=", "expired").execute();
    expect(ended.length).toBe(GRANTS);
    // Ended in batches, the audit trail is still one unbroken hash chain.
    const verified = await verifyChain(a.services, { record: false });
    expect(verified.ok, JSON.stringify(verified)).toBe(true);
  });
});
