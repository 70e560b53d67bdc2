// Issue 3 on a real server and database (SQLite, or PostgreSQL with TEST_DB=postgres): the allowlist and its reach
// into bundles, the policy lifecycle with readable versions, computer name patterns, and Test access's bundle.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acceptBundle, type Bundle } from "../core/bundle";
import { decide } from "../core/decide";
import type { PolicyFileInput } from "../core/policy";
import { createPublicKey, verify } from "node:crypto";
import { expirePolicies } from "./services/policies";
import { enrollComputer, setUpOwner, startTestServer, TEST_DB, TEST_OWNER, testPolicy, trpcCode, type TestServer } from "./test-support";

const OWNER = TEST_OWNER;
const HASH = "a".repeat(64);
const OTHER = "b".repeat(64);

const policy = (over: Partial<PolicyFileInput> = {}): PolicyFileInput => testPolicy(over, HASH);

let srv: TestServer;
let clock = Date.parse("2026-03-01T10:00:00Z");
beforeEach(async () => {
  clock = Date.parse("2026-03-01T10:00:00Z");
  srv = await startTestServer({ now: () => new Date(clock) });
});
afterEach(async () => {
  await srv.stop();
});

async function owner() {
  return (await setUpOwner(srv.url)).client;
}

const enroll = (admin: Awaited<ReturnType<typeof owner>>, name: string) => enrollComputer(srv.url, admin, name);

async function pullBundle(agent: { computer: { id: string }; agentToken: string; publicKey: string }): Promise<Bundle> {
  const res = await fetch(`${srv.url}/agent/v1/bundle`, { headers: { authorization: `Bearer ${agent.agentToken}` } });
  expect(res.status).toBe(200);
  const key = createPublicKey(agent.publicKey);
  const r = acceptBundle(await res.json(), { verify: (m, s) => verify(null, m, key, s), computerId: agent.computer.id, lastTrustedVersion: null, now: new Date(clock) });
  if ("refused" in r) throw new Error(r.refused.message);
  return r.bundle;
}

const eventsOf = async (type: string) => srv.services.db.selectFrom("events").selectAll().where("type", "=", type).orderBy("seq").execute();

describe(`allowlist on ${TEST_DB}`, () => {
  it("adds, lists, removes and applies entries; each change reaches the bundles and the audit trail", async () => {
    const admin = await owner();
    const agent = await enroll(admin, "build-01");
    await admin.policies.create.mutate(policy({ name: "Allowed apps", applications: "allAllowed" }));
    const v1 = await pullBundle(agent);
    expect(v1.allowlist).toEqual([]);
    expect(decide(v1, { user: "alice", app: { path: "/usr/bin/tool", sha256: HASH }, at: new Date(clock) }).allowed).toBe(false);

    const entry = await admin.allowlist.add.mutate({ name: "Tool", rule: { type: "fileHash", sha256: HASH.toUpperCase() } });
    expect(entry).toMatchObject({ name: "Tool", rule: { type: "fileHash", sha256: HASH } });
    await expect(admin.allowlist.add.mutate({ name: "tool", rule: { type: "vendor", vendor: "X" } })).rejects.toSatisfy((e) => trpcCode(e) === "CONFLICT");
    await expect(admin.allowlist.add.mutate({ name: "Bad", rule: { type: "fileHash", sha256: "nope" } as never })).rejects.toSatisfy((e) => trpcCode(e) === "BAD_REQUEST");

    const v2 = await pullBundle(agent);
    expect(v2.version).toBeGreaterThan(v1.version);
    expect(v2.allowlist).toEqual([{ type: "fileHash", sha256: HASH }]);
    expect(decide(v2, { user: "alice", app: { path: "/usr/bin/tool", sha256: HASH }, at: new Date(clock) })).toMatchObject({ allowed: true, reason: expect.stringMatching(/allowlisted/) });

    const file = { entries: [{ name: "Debian", rule: { type: "vendor", vendor: "Debian" } }, { name: "dpkg", description: "the package tool", rule: { type: "product", product: "dpkg", versions: ">=1.21" } }] };
    expect(await admin.allowlist.applyFile.mutate(file)).toEqual({ added: 2, changed: 0, removed: 1, unchanged: 0 });
    expect(await admin.allowlist.applyFile.mutate(file)).toEqual({ added: 0, changed: 0, removed: 0, unchanged: 2 });
    const { entries } = await admin.allowlist.list.query();
    expect(entries.map((e) => e.name)).toEqual(["Debian", "dpkg"]);
    const v3 = await pullBundle(agent);
    expect(v3.allowlist).toHaveLength(2);
    expect(decide(v3, { user: "alice", app: { path: "/usr/bin/tool", sha256: HASH }, at: new Date(clock) }).allowed).toBe(false);
    expect(decide(v3, { user: "alice", app: { path: "/usr/bin/dpkg", packageName: "dpkg", packageVersion: "1.21.22" }, at: new Date(clock) }).allowed).toBe(true);

    await admin.allowlist.remove.mutate({ id: entries[0]!.id });
    expect((await admin.allowlist.list.query()).entries.map((e) => e.name)).toEqual(["dpkg"]);
    await expect(admin.allowlist.remove.mutate({ id: entries[0]!.id })).rejects.toSatisfy((e) => trpcCode(e) === "NOT_FOUND");

    const dup = { entries: [{ name: "A", rule: { type: "vendor", vendor: "x" } }, { name: "a", rule: { type: "vendor", vendor: "y" } }] };
    await expect(admin.allowlist.applyFile.mutate(dup)).rejects.toSatisfy((e) => trpcCode(e) === "BAD_REQUEST");

    const changes = await eventsOf("allowlist.changed");
    expect(changes).toHaveLength(3);
    expect(JSON.parse(changes[1]!.detail)).toMatchObject({ added: [{ name: "Debian" }, { name: "dpkg" }], removed: [{ name: "Tool" }] });
  });
});

describe(`policy lifecycle on ${TEST_DB}`, () => {
  it("draft → deployed; an edit of a deployed policy is a new revision, redeployed, the old one readable", async () => {
    const admin = await owner();
    const agent = await enroll(admin, "build-01");
    const draft = await admin.policies.create.mutate(policy({ deploy: false }));
    expect(draft.policy).toMatchObject({ status: "draft", revision: 1 });
    expect((await pullBundle(agent)).policies).toEqual([]);

    // Editing a draft keeps it a draft.
    const edited = await admin.policies.update.mutate({ id: draft.policy.id, policy: policy({ deploy: false, description: "for the build farm" }) });
    expect(edited).toMatchObject({ changed: true, deployed: false, policy: { status: "draft", revision: 2 } });

    await admin.policies.deploy.mutate({ id: draft.policy.id });
    const b1 = await pullBundle(agent);
    expect(b1.policies).toEqual([expect.objectContaining({ id: draft.policy.id, revision: 2 })]);

    clock += 30 * 60_000;
    const redeployed = await admin.policies.update.mutate({ id: draft.policy.id, policy: policy({ deploy: false, applications: [{ type: "fileHash", sha256: OTHER }] }) });
    expect(redeployed).toMatchObject({ changed: true, deployed: true, policy: { status: "deployed", revision: 3, deployedAt: new Date(clock).toISOString() } });
    const b2 = await pullBundle(agent);
    expect(b2.policies[0]).toMatchObject({ revision: 3, applications: [{ type: "fileHash", sha256: OTHER }], startsAt: new Date(clock).toISOString() });

    const { versions } = await admin.policies.versions.query({ id: draft.policy.id });
    expect(versions.map((v) => v.revision)).toEqual([3, 2, 1]);
    expect(versions[2]).toMatchObject({ description: "", applications: [{ type: "fileHash", sha256: HASH }], createdBy: OWNER.email });
    expect(versions[1]).toMatchObject({ description: "for the build farm" });

    // An unchanged edit is no new revision.
    expect(await admin.policies.update.mutate({ id: draft.policy.id, policy: policy({ deploy: false, applications: [{ type: "fileHash", sha256: OTHER }] }) })).toMatchObject({ changed: false, policy: { revision: 3 } });

    // Renaming onto another policy's name is refused.
    await admin.policies.create.mutate(policy({ name: "Other", deploy: false }));
    await expect(admin.policies.update.mutate({ id: draft.policy.id, policy: policy({ name: "OTHER" }) })).rejects.toSatisfy((e) => trpcCode(e) === "CONFLICT");

    // Disabled: gone from the bundle, still readable, cannot be deleted.
    await admin.policies.disable.mutate({ id: draft.policy.id });
    expect((await pullBundle(agent)).policies).toEqual([]);
    await expect(admin.policies.delete.mutate({ id: draft.policy.id })).rejects.toSatisfy((e) => trpcCode(e) === "CONFLICT");
    expect((await admin.policies.get.query({ id: draft.policy.id })).effectiveStatus).toBe("disabled");

    const types = (await srv.services.db.selectFrom("events").select("type").where("policy_id", "=", draft.policy.id).orderBy("seq").execute()).map((e) => e.type);
    expect(types).toEqual(["policy.created", "policy.edited", "policy.deployed", "policy.edited", "policy.deployed", "policy.disabled"]);
  });

  it("a deployed policy past its end is recorded as expired, once; a Fixed one can be deployed again", async () => {
    const admin = await owner();
    const p = await admin.policies.create.mutate(policy());
    expect(await expirePolicies(srv.services)).toBe(0);
    clock += 2 * 3600_000;
    expect((await admin.policies.get.query({ id: p.policy.id })).effectiveStatus).toBe("expired");
    // The expiry sweeper records it (twice asked, once recorded).
    await srv.sweeper.sweepNow();
    await srv.sweeper.sweepNow();
    expect(await expirePolicies(srv.services)).toBe(0);
    expect((await admin.policies.get.query({ id: p.policy.id })).status).toBe("expired");
    const events = await eventsOf("policy.expired");
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.detail)).toEqual({ revision: 1, endedAt: new Date(clock).toISOString() });
    const again = await admin.policies.deploy.mutate({ id: p.policy.id });
    expect(again.policy).toMatchObject({ status: "deployed", effectiveStatus: "deployed" });
  });

  it("expires at its end; a Window is stored in UTC", async () => {
    const admin = await owner();
    const w = await admin.policies.create.mutate(
      policy({ name: "Window", duration: { type: "window", start: "2026-03-01T11:30:00+01:00", end: "2026-03-01T13:00:00+01:00" } }),
    );
    expect(w.policy.duration).toEqual({ type: "window", start: "2026-03-01T10:30:00.000Z", end: "2026-03-01T12:00:00.000Z" });
    expect(w.policy.effectiveStatus).toBe("deployed");
    clock = Date.parse("2026-03-01T12:00:00Z");
    expect((await admin.policies.get.query({ id: w.policy.id })).effectiveStatus).toBe("expired");
    // Applying the same file again (offset form) is no change.
    const again = await admin.policies.upsert.mutate(policy({ name: "Window", duration: { type: "window", start: "2026-03-01T11:30:00+01:00", end: "2026-03-01T13:00:00+01:00" } }));
    expect(again.changed).toBe(false);
  });

  it("duplicates as a draft and deletes only drafts", async () => {
    const admin = await owner();
    const p = await admin.policies.create.mutate(policy());
    const copy = await admin.policies.duplicate.mutate({ id: p.policy.id });
    expect(copy.policy).toMatchObject({ name: "Build tools (copy)", status: "draft", revision: 1, applications: [{ type: "fileHash", sha256: HASH }] });
    const copy2 = await admin.policies.duplicate.mutate({ id: p.policy.id });
    expect(copy2.policy.name).toBe("Build tools (copy 2)");
    await admin.policies.delete.mutate({ id: copy.policy.id });
    await expect(admin.policies.get.query({ id: copy.policy.id })).rejects.toSatisfy((e) => trpcCode(e) === "NOT_FOUND");
    await expect(admin.policies.delete.mutate({ id: p.policy.id })).rejects.toSatisfy((e) => trpcCode(e) === "CONFLICT");
    const deleted = await eventsOf("policy.deleted");
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatchObject({ policy_id: copy.policy.id });
    expect((await admin.policies.list.query()).policies.map((x) => x.name).sort()).toEqual(["Build tools", "Build tools (copy 2)"]);
  });
});

describe(`computers and Test access on ${TEST_DB}`, () => {
  it("a name pattern in a policy reaches the computers it names; bundlePreview gives the bundle to decide with", async () => {
    const admin = await owner();
    const build = await enroll(admin, "Build-07");
    const web = await enroll(admin, "web-01");
    await admin.policies.create.mutate(policy({ computers: ["build-*"] }));
    expect((await pullBundle(build)).policies).toHaveLength(1);
    expect((await pullBundle(web)).policies).toHaveLength(0);

    const preview = await admin.computers.bundlePreview.query({ computerId: build.computer.id });
    expect(preview.bundle.computer.id).toBe(build.computer.id);
    expect(decide(preview.bundle, { user: "ALICE", app: { path: "/x", sha256: HASH }, at: new Date(preview.serverTime) }).allowed).toBe(true);
    await expect(admin.computers.bundlePreview.query({ computerId: "nope" })).rejects.toSatisfy((e) => trpcCode(e) === "NOT_FOUND");
  });
});
