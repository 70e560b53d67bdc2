// The connection budget: a server with a pool of 5 PostgreSQL connections holds 200 parked long-polls without
// holding a connection for any of them; the console API stays responsive, and a change still wakes them all.
import { afterEach, describe, expect, it } from "vitest";
import { bundleEtag } from "../core/protocol";
import { apiClient, signedInClient, startTestServer, TEST_DB, type TestServer } from "./test-support";

const OWNER = { email: "owner@example.com", password: "correct horse battery" };
const COMPUTERS = 20;
const POLLS = 200;

let srv: TestServer | null = null;
afterEach(async () => {
  await srv?.stop();
  srv = null;
});

describe.skipIf(TEST_DB !== "postgres")("connection budget", () => {
  it("keeps the console API responsive with 200 parked long-polls on a pool of 5", async () => {
    srv = await startTestServer({ env: { pgPoolMax: 5 } });
    const s = srv;
    await apiClient(s.url).auth.setupOwner.mutate(OWNER);
    const owner = (await signedInClient(s.url, OWNER.email, OWNER.password)).client;
    const agents: { token: string; version: number }[] = [];
    for (let i = 0; i < COMPUTERS; i++) {
      const { token } = await owner.computers.createEnrollmentToken.mutate();
      const enrolled = (await (
        await fetch(`${s.url}/agent/v1/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token, name: `build-${i}`, os: "linux", agentVersion: "0.1.0" }) })
      ).json()) as { agentToken: string };
      const first = (await (await fetch(`${s.url}/agent/v1/bundle`, { headers: { authorization: `Bearer ${enrolled.agentToken}` } })).json()) as { bundle: { version: number } };
      agents.push({ token: enrolled.agentToken, version: first.bundle.version });
    }

    const controller = new AbortController();
    const polls = Array.from({ length: POLLS }, (_, i) => {
      const agent = agents[i % COMPUTERS]!;
      return fetch(`${s.url}/agent/v1/bundle?wait=30`, {
        headers: { authorization: `Bearer ${agent.token}`, "if-none-match": bundleEtag(agent.version) },
        signal: controller.signal,
      }).then((r) => r.status);
    });
    try {
      // Let them all arrive and park.
      await new Promise((r) => setTimeout(r, 1_500));
      const dbName = new URL(s.databaseUrl!).pathname.slice(1);
      const { rows } = await s.services.db
        .selectFrom("pg_stat_activity" as never)
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("datname" as never, "=", dbName as never)
        .execute()
        .then((r) => ({ rows: r }));
      // The pool (at most 5) and the change feed's one listening connection, whatever the number of long-polls.
      expect(Number(rows[0]!.n)).toBeLessThanOrEqual(6);

      for (let round = 0; round < 5; round++) {
        const t0 = Date.now();
        const list = await owner.computers.list.query();
        await owner.requests.list.query({ status: "pending" });
        const ms = Date.now() - t0;
        expect(list.computers).toHaveLength(COMPUTERS);
        expect(ms).toBeLessThan(1_000);
      }

      // A change for every computer still wakes every parked long-poll, through the same 5 connections.
      const changedAt = Date.now();
      await owner.policies.upsert.mutate({
        name: "Build tools",
        computers: ["build-*"],
        users: ["alice"],
        duration: { type: "fixed", length: "2h" },
        applications: [{ type: "fileHash", sha256: "a".repeat(64) }],
        deploy: true,
      });
      const statuses = await Promise.all(polls);
      expect(statuses.every((x) => x === 200)).toBe(true);
      console.log(`${POLLS} parked long-polls on a pool of 5 all answered ${Date.now() - changedAt} ms after a policy for build-*`);
    } finally {
      controller.abort();
      await Promise.allSettled(polls);
    }
  });
});
