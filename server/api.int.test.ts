// The server's APIs end to end over HTTP, on a real database (SQLite, or PostgreSQL with TEST_DB=postgres).
import { createPublicKey, verify } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acceptBundle } from "../core/bundle";
import type { PolicyFileInput } from "../core/policy";
import { bundleEtag } from "../core/protocol";
import { apiClient, enrollComputer, setUpOwner, signedInClient, startTestServer, TEST_DB, TEST_OWNER, testPolicy, trpcCode, type TestServer } from "./test-support";

const OWNER = TEST_OWNER;
const HASH = "a".repeat(64);

const policy = (over: Partial<PolicyFileInput> = {}): PolicyFileInput => testPolicy(over, HASH);

let srv: TestServer;
beforeEach(async () => {
  srv = await startTestServer();
});
afterEach(async () => {
  await srv.stop();
});

async function owner() {
  return (await setUpOwner(srv.url)).client;
}

async function enroll(name = "build-01") {
  const admin = await owner();
  return { admin, ...(await enrollComputer(srv.url, admin, name)) };
}

const pull = (agentToken: string, headers: Record<string, string> = {}, wait = 0) =>
  fetch(`${srv.url}/agent/v1/bundle?wait=${wait}`, { headers: { authorization: `Bearer ${agentToken}`, ...headers } });

describe(`server on ${TEST_DB}`, () => {
  it("makes the owner once, signs in and out, and keeps the session's secret only hashed", async () => {
    const anon = apiClient(srv.url);
    expect(await anon.auth.status.query()).toEqual({ needsOwner: true, user: null });
    await anon.auth.setupOwner.mutate(OWNER);
    await expect(anon.auth.setupOwner.mutate({ email: "x@example.com", password: "another long password" })).rejects.toSatisfy((e) => trpcCode(e) === "CONFLICT");
    await expect(anon.auth.createCliSession.mutate({ email: OWNER.email, password: "wrong password!" })).rejects.toSatisfy((e) => trpcCode(e) === "UNAUTHORIZED");
    const { client, token } = await signedInClient(srv.url, OWNER.email.toUpperCase(), OWNER.password);
    expect((await client.auth.status.query()).user).toMatchObject({ email: OWNER.email, role: "owner" });
    const [id, secret] = token.split(".");
    const row = await srv.services.db.selectFrom("sessions").selectAll().where("id", "=", id!).executeTakeFirstOrThrow();
    expect(row.secret_hash).not.toContain(secret!);
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    await client.auth.logout.mutate();
    expect((await client.auth.status.query()).user).toBeNull();
    await expect(client.policies.list.query()).rejects.toSatisfy((e) => trpcCode(e) === "UNAUTHORIZED");
  });

  it("sets an HttpOnly SameSite=Lax cookie at browser sign-in and refuses cross-site mutations", async () => {
    await apiClient(srv.url).auth.setupOwner.mutate(OWNER);
    const res = await fetch(`${srv.url}/api/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", "sec-fetch-site": "same-origin" },
      body: JSON.stringify(OWNER),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^jit_session=[a-z0-9]+\.[a-z0-9]+; Path=\/; HttpOnly; SameSite=Lax/);
    const session = cookie.split(";")[0]!;
    const evil = await fetch(`${srv.url}/api/trpc/policies.upsert`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: session, "sec-fetch-site": "cross-site", origin: "https://evil.example" },
      body: JSON.stringify(policy()),
    });
    expect(evil.status).toBe(403);
    const ok = await fetch(`${srv.url}/api/trpc/policies.upsert`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: session, "sec-fetch-site": "same-origin" },
      body: JSON.stringify(policy()),
    });
    expect(ok.status).toBe(200);
    // Answers carry a person's data: the browser never keeps them in its HTTP cache.
    const read = await fetch(`${srv.url}/api/trpc/policies.list`, { headers: { cookie: session } });
    expect(read.status).toBe(200);
    expect(read.headers.get("cache-control")).toBe("no-store");
    expect(ok.headers.get("cache-control")).toBe("no-store");
  });

  it("refuses each role what it may not do", async () => {
    const admin = await owner();
    for (const role of ["admin", "approver", "auditor"] as const) {
      await admin.users.create.mutate({ email: `${role}@example.com`, password: "a long enough password", role });
    }
    const as = async (role: string) => (await signedInClient(srv.url, `${role}@example.com`, "a long enough password")).client;
    const adminUser = await as("admin");
    expect((await adminUser.policies.upsert.mutate(policy())).created).toBe(true);
    await expect(adminUser.users.create.mutate({ email: "z@example.com", password: "a long enough password", role: "owner" })).rejects.toSatisfy(
      (e) => trpcCode(e) === "FORBIDDEN",
    );
    for (const role of ["approver", "auditor"]) {
      const c = await as(role);
      expect((await c.policies.list.query()).policies).toHaveLength(1);
      expect((await c.computers.list.query()).computers).toEqual([]);
      await expect(c.policies.upsert.mutate(policy({ name: "Nope" }))).rejects.toSatisfy((e) => trpcCode(e) === "FORBIDDEN");
      await expect(c.computers.createEnrollmentToken.mutate()).rejects.toSatisfy((e) => trpcCode(e) === "FORBIDDEN");
      await expect(c.users.list.query()).rejects.toSatisfy((e) => trpcCode(e) === "FORBIDDEN");
    }
  });

  it("throttles failed sign-ins per account, even for the right password", async () => {
    await apiClient(srv.url).auth.setupOwner.mutate(OWNER);
    const anon = apiClient(srv.url);
    for (let i = 0; i < 5; i++) {
      await expect(anon.auth.createCliSession.mutate({ email: OWNER.email, password: `wrong ${i}` })).rejects.toSatisfy((e) => trpcCode(e) === "UNAUTHORIZED");
    }
    const locked = anon.auth.createCliSession.mutate(OWNER);
    await expect(locked).rejects.toSatisfy((e) => trpcCode(e) === "TOO_MANY_REQUESTS");
    await expect(locked).rejects.toThrow(/Try again in \d+ seconds/);
    const events = await srv.services.db.selectFrom("events").select("type").where("type", "=", "console.sign_in_failed").execute();
    expect(events).toHaveLength(5);
  });

  it("applies policy files idempotently by name, with one clear line per problem", async () => {
    const admin = await owner();
    const first = await admin.policies.upsert.mutate(policy());
    expect(first).toMatchObject({ created: true, changed: true, deployed: true, policy: { revision: 1, status: "deployed", effectiveStatus: "deployed" } });
    const again = await admin.policies.upsert.mutate(policy());
    expect(again).toMatchObject({ created: false, changed: false, deployed: false, policy: { id: first.policy.id, revision: 1 } });
    const edited = await admin.policies.upsert.mutate(policy({ users: ["alice", "bob"], deploy: false }));
    expect(edited).toMatchObject({ created: false, changed: true, deployed: true, policy: { revision: 2, users: ["alice", "bob"] } });
    await expect(admin.policies.create.mutate(policy())).rejects.toSatisfy((e) => trpcCode(e) === "CONFLICT");

    const bad = await admin.policies.upsert.mutate({ ...policy({ name: "Bad" }), duration: { type: "fixed", length: "2 hours" }, users: [] }).catch((e: unknown) => e);
    expect(trpcCode(bad)).toBe("BAD_REQUEST");
    const issues = (bad as { data: { issues: { path: string; message: string }[] } }).data.issues;
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual(['users: name at least one user, or "all"', 'duration.length: expected <n>m|<n>h|<n>d, got "2 hours"']);
    const list = await admin.policies.list.query();
    expect(list.policies.map((p) => p.name)).toEqual(["Build tools"]);
    const types = (await srv.services.db.selectFrom("events").select("type").orderBy("seq").execute()).map((e) => e.type);
    expect(types.filter((t) => t.startsWith("policy."))).toEqual(["policy.created", "policy.deployed", "policy.edited", "policy.deployed"]);
  });

  it("enrolls with a one-time token and refuses it the second time", async () => {
    const { enrollmentToken: token, computer, agentToken, admin } = await enroll();
    expect(agentToken).toMatch(/^jat_/);
    const again = await fetch(`${srv.url}/agent/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, name: "other", os: "linux", agentVersion: "0.1.0" }),
    });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/already used/);
    const bogus = await fetch(`${srv.url}/agent/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "jet_nope", name: "x", os: "linux", agentVersion: "0.1.0" }),
    });
    expect(bogus.status).toBe(401);
    const computers = (await admin.computers.list.query()).computers;
    expect(computers).toEqual([expect.objectContaining({ id: computer.id, name: "build-01", os: "linux test", agentVersion: "0.1.0" })]);
    const stored = await srv.services.db.selectFrom("computers").select("token_hash").executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(agentToken);
    expect((await pull("jat_wrong")).status).toBe(401);
  });

  it("serves a signed bundle for the computer, answers 304 to If-None-Match, and wakes a long-poll on a new version", async () => {
    const { admin, agentToken, computer, publicKey } = await enroll();
    await admin.policies.upsert.mutate(policy());
    await admin.policies.upsert.mutate(policy({ name: "Elsewhere", computers: ["other-02"] }));

    const first = await pull(agentToken);
    expect(first.status).toBe(200);
    const envelope = await first.json();
    const key = createPublicKey(publicKey);
    const accepted = acceptBundle(envelope, { verify: (m, s) => verify(null, m, key, s), computerId: computer.id, lastTrustedVersion: null, now: new Date() });
    if (!("bundle" in accepted)) throw new Error(JSON.stringify(accepted));
    const { bundle } = accepted;
    expect(bundle.policies.map((p) => p.name)).toEqual(["Build tools"]);
    expect(first.headers.get("etag")).toBe(bundleEtag(bundle.version));

    const unchanged = await pull(agentToken, { "if-none-match": bundleEtag(bundle.version), "x-bundle-version": String(bundle.version) });
    expect(unchanged.status).toBe(304);
    expect((await admin.computers.list.query()).computers[0]!.bundleVersion).toBe(bundle.version);

    const started = Date.now();
    const waiting = pull(agentToken, { "if-none-match": bundleEtag(bundle.version) }, 20);
    await new Promise((r) => setTimeout(r, 300));
    await admin.policies.upsert.mutate(policy({ users: "all" }));
    const woken = await waiting;
    const elapsed = Date.now() - started;
    expect(woken.status).toBe(200);
    const next = (await woken.json()) as { bundle: { version: number; policies: { users: unknown }[] } };
    expect(next.bundle.version).toBeGreaterThan(bundle.version);
    expect(next.bundle.policies[0]!.users).toBe("all");
    expect(elapsed).toBeLessThan(5_000);

    // A long-poll with nothing new answers 304 when its wait is over.
    const idle = await pull(agentToken, { "if-none-match": bundleEtag(next.bundle.version) }, 1);
    expect(idle.status).toBe(304);
  });
});
