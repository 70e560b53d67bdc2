// Several servers on one PostgreSQL database: a change made on one wakes the agents long-polling another.
import { afterEach, describe, expect, it } from "vitest";
import { bundleEtag } from "../core/protocol";
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
});
