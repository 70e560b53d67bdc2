// Bundle acceptance from disk, with a real Ed25519 key pair and core's signBundle().
import { promises as fs } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCachedBundle } from "./trusted-bundle";
import { enrolledStore, makeBundle, makeKeys, makeTempDir, signWith, type TestKeys } from "./test-fixtures";
import type { AgentConfig, StateStore } from "./state";

let dir: string;
let keys: TestKeys;
let store: StateStore;
let config: AgentConfig;
const now = new Date("2026-03-01T10:00:00Z");

beforeEach(async () => {
  dir = await makeTempDir();
  keys = makeKeys();
  ({ store, config } = await enrolledStore(keys, dir));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("loadCachedBundle", () => {
  it("has nothing before the first pull", async () => {
    expect(await loadCachedBundle(store, config, now)).toEqual({ status: "none" });
  });

  it("accepts a bundle signed by the server's key, for this computer, at the trusted version", async () => {
    const bundle = makeBundle({ version: 3 }, now);
    await store.writeBundleEnvelope(signWith(keys, bundle));
    await store.saveTrust({ highestVersion: 3, lastSyncAt: now.toISOString() });
    const r = await loadCachedBundle(store, config, now);
    expect(r.status).toBe("trusted");
    expect(r.status === "trusted" && r.bundle).toEqual(bundle);
  });

  it("refuses a bundle.json edited on disk", async () => {
    const signed = signWith(keys, makeBundle({ version: 3 }, now));
    const tampered = { ...signed, bundle: { ...signed.bundle, policies: [] as unknown[], allowlist: [{ type: "folderPath", path: "/" }] } };
    await store.writeBundleEnvelope(tampered);
    expect(await loadCachedBundle(store, config, now)).toEqual({ status: "refused", refusal: expect.objectContaining({ code: "bad_signature" }) });
  });

  it("refuses a bundle signed by another key", async () => {
    await store.writeBundleEnvelope(signWith(makeKeys(), makeBundle({}, now)));
    expect(await loadCachedBundle(store, config, now)).toMatchObject({ status: "refused", refusal: { code: "bad_signature" } });
  });

  it("refuses a version lower than trust.json (rollback)", async () => {
    await store.writeBundleEnvelope(signWith(keys, makeBundle({ version: 2 }, now)));
    await store.saveTrust({ highestVersion: 5, lastSyncAt: now.toISOString() });
    expect(await loadCachedBundle(store, config, now)).toMatchObject({ status: "refused", refusal: { code: "rollback" } });
  });

  it("refuses a bundle for another computer", async () => {
    await store.writeBundleEnvelope(signWith(keys, makeBundle({ computer: { id: "cmp_other", name: "other" } }, now)));
    expect(await loadCachedBundle(store, config, now)).toMatchObject({ status: "refused", refusal: { code: "wrong_computer" } });
  });

  it("refuses a file that is not JSON, and a damaged trust.json", async () => {
    await fs.writeFile(store.path("bundle"), "{");
    expect(await loadCachedBundle(store, config, now)).toMatchObject({ status: "refused", refusal: { code: "malformed" } });
    await store.writeBundleEnvelope(signWith(keys, makeBundle({}, now)));
    await fs.writeFile(store.path("trust"), "[]");
    expect(await loadCachedBundle(store, config, now)).toMatchObject({ status: "refused", refusal: { code: "rollback" } });
  });

  it("still returns a stale bundle (decide() denies it), but not a stale tampered one", async () => {
    const bundle = makeBundle({ validUntil: "2026-02-01T00:00:00.000Z", issuedAt: "2026-01-01T00:00:00.000Z" });
    await store.writeBundleEnvelope(signWith(keys, bundle));
    expect(await loadCachedBundle(store, config, now)).toMatchObject({ status: "trusted", bundle: { version: 1 } });
    const signed = signWith(keys, bundle);
    await store.writeBundleEnvelope({ ...signed, bundle: { ...signed.bundle, version: 9 } });
    expect(await loadCachedBundle(store, config, now)).toMatchObject({ status: "refused", refusal: { code: "bad_signature" } });
  });
});
