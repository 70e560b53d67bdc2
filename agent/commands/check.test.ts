// check's decision path: a real probe of a temp file, a real signed bundle on disk, decide() from core.
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BundlePolicy } from "../../core/bundle";
import type { StateStore } from "../state";
import { enrolledStore, makeBundle, makeKeys, makeTempDir, signWith, type TestKeys } from "../test-fixtures";
import { runCheck } from "./check";

let dir: string;
let keys: TestKeys;
let store: StateStore;
let tool: string;
const now = new Date();

function policy(overrides: Partial<BundlePolicy>): BundlePolicy {
  return {
    id: "pol_1",
    name: "Build tools",
    revision: 1,
    users: ["alice"],
    applications: "allAllowed",
    duration: { type: "fixed", length: "8h" },
    startsAt: new Date(now.getTime() - 3_600_000).toISOString(),
    endsAt: new Date(now.getTime() + 3_600_000).toISOString(),
    ...overrides,
  };
}

beforeEach(async () => {
  dir = await fs.realpath(await makeTempDir());
  keys = makeKeys();
  ({ store } = await enrolledStore(keys, join(dir, "state")));
  await fs.mkdir(join(dir, "bin"));
  tool = join(dir, "bin", "tool");
  await fs.writeFile(tool, "#!/bin/sh\n");
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function install(policies: BundlePolicy[]) {
  const sha = createHash("sha256").update("#!/bin/sh\n").digest("hex");
  await store.writeBundleEnvelope(signWith(keys, makeBundle({ version: 2, policies, allowlist: [{ type: "fileHash", sha256: sha }] }, now)));
  await store.saveTrust({ highestVersion: 2, lastSyncAt: now.toISOString() });
}

describe("runCheck", () => {
  it("allows an allowlisted file by its real hash, through a symlink", async () => {
    await install([policy({})]);
    await fs.symlink(tool, join(dir, "link"));
    const r = await runCheck(store, { user: "alice", path: join(dir, "link"), clsid: null }, now);
    expect(r).toMatchObject({ allowed: true, source: { type: "policy", id: "pol_1", name: "Build tools" }, bundleVersion: 2, app: { path: tool } });
    expect(r.expiresAt).toBe(policy({}).endsAt);
  });

  it("denies another user, a changed file, and a missing file", async () => {
    await install([policy({})]);
    expect(await runCheck(store, { user: "bob", path: tool, clsid: null }, now)).toMatchObject({ allowed: false, source: null });
    await fs.appendFile(tool, "echo changed\n");
    expect(await runCheck(store, { user: "alice", path: tool, clsid: null }, now)).toMatchObject({ allowed: false });
    const missing = await runCheck(store, { user: "alice", path: join(dir, "nope"), clsid: null }, now);
    expect(missing).toMatchObject({ allowed: false, reason: expect.stringContaining("does not exist") });
  });

  it("denies with the reason when the cached bundle was tampered with", async () => {
    await install([policy({})]);
    const env = JSON.parse(await fs.readFile(store.path("bundle"), "utf8"));
    env.bundle.policies[0].users = "all";
    await fs.writeFile(store.path("bundle"), JSON.stringify(env));
    const r = await runCheck(store, { user: "bob", path: tool, clsid: null }, now);
    expect(r).toMatchObject({ allowed: false, reason: expect.stringContaining("refused (bad_signature)") });
  });

  it("denies when there is no bundle, and when the bundle is stale", async () => {
    expect(await runCheck(store, { user: "alice", path: tool, clsid: null }, now)).toMatchObject({ allowed: false, reason: expect.stringContaining("no policy bundle") });
    const later = new Date(now.getTime() + 8 * 86_400_000);
    await install([policy({ endsAt: new Date(later.getTime() + 1).toISOString() })]);
    expect(await runCheck(store, { user: "alice", path: tool, clsid: null }, later)).toMatchObject({ allowed: false, reason: expect.stringContaining("stale") });
  });

  it("denies when not enrolled", async () => {
    await fs.rm(store.path("config"));
    expect(await runCheck(store, { user: "alice", path: tool, clsid: null }, now)).toMatchObject({ allowed: false, reason: expect.stringContaining("not enrolled") });
  });
});
