import { describe, expect, it } from "vitest";
import type { Bundle, BundlePolicy } from "./bundle";
import { decide, type AppIdentity } from "./decide";

const HASH = "ab".repeat(32);
const OTHER = "cd".repeat(32);
const T0 = new Date("2026-03-01T10:00:00Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

function policy(over: Partial<BundlePolicy> = {}): BundlePolicy {
  return {
    id: "p1",
    name: "Build tools",
    revision: 1,
    users: ["alice"],
    applications: [{ type: "fileHash", sha256: HASH }],
    duration: { type: "fixed", length: "2h" },
    startsAt: T0.toISOString(),
    endsAt: at(120).toISOString(),
    ...over,
  };
}

function bundle(policies: BundlePolicy[], over: Partial<Bundle> = {}): Bundle {
  return {
    format: 1,
    computer: { id: "c1", name: "build-01" },
    version: 1,
    issuedAt: T0.toISOString(),
    validUntil: at(7 * 24 * 60).toISOString(),
    policies,
    grants: [],
    allowlist: [],
    ...over,
  };
}

const app = (over: Partial<AppIdentity> = {}): AppIdentity => ({ path: "/usr/bin/tool", sha256: HASH, ...over });

describe("decide: fileHash rules and users", () => {
  const b = bundle([policy()]);
  it.each([
    ["alice, matching hash", "alice", app(), true],
    ["ALICE in another case", "ALICE", app(), true],
    ["CORP\\alice domain form", "CORP\\alice", app(), true],
    ["alice@corp.example UPN form", "alice@corp.example", app(), true],
    ["bob is not listed", "bob", app(), false],
    ["another file", "alice", app({ sha256: OTHER }), false],
    ["hash unknown", "alice", app({ sha256: null }), false],
    ["empty user", " ", app(), false],
  ])("%s", (_, user, identity, allowed) => {
    const d = decide(b, { user, app: identity, at: at(10) });
    expect(d.allowed).toBe(allowed);
    if (allowed) {
      expect(d.source).toEqual({ type: "policy", id: "p1", name: "Build tools" });
      expect(d.expiresAt).toBe(at(120).toISOString());
    } else {
      expect(d.source).toBeNull();
      expect(d.expiresAt).toBeNull();
    }
  });

  it("All users covers anyone", () => {
    expect(decide(bundle([policy({ users: "all" })]), { user: "bob", app: app(), at: at(1) }).allowed).toBe(true);
  });

  it("explains why each policy did not apply", () => {
    const d = decide(b, { user: "bob", app: app(), at: at(10) });
    expect(d.evaluated).toEqual([expect.objectContaining({ policyId: "p1", outcome: "user_not_covered" })]);
    expect(d.reason).toMatch(/no policy allows bob/);
  });
});

describe("decide: timing", () => {
  const window = policy({
    duration: { type: "window", start: "2026-03-01T11:00:00+01:00", end: "2026-03-01T12:00:00+01:00" },
    startsAt: "2026-03-01T10:00:00.000Z",
    endsAt: "2026-03-01T11:00:00.000Z",
  });
  it.each([
    ["before the window", at(-1), false, "not_yet_active"],
    ["at its start", at(0), true, "matched"],
    ["inside", at(59), true, "matched"],
    ["at its end", at(60), false, "ended"],
    ["after", at(61), false, "ended"],
  ])("window: %s", (_, when, allowed, outcome) => {
    const d = decide(bundle([window]), { user: "alice", app: app(), at: when });
    expect(d.allowed).toBe(allowed);
    expect(d.evaluated[0]!.outcome).toBe(outcome);
  });

  it.each([
    ["inside a fixed duration", at(119), true],
    ["after a fixed duration", at(120), false],
  ])("fixed: %s", (_, when, allowed) => {
    expect(decide(bundle([policy()]), { user: "alice", app: app(), at: when }).allowed).toBe(allowed);
  });

  it("fails closed on a stale bundle, whatever its policies say", () => {
    const b = bundle([policy({ endsAt: at(60 * 24 * 30).toISOString() })], { validUntil: at(30).toISOString() });
    expect(decide(b, { user: "alice", app: app(), at: at(29) }).allowed).toBe(true);
    const d = decide(b, { user: "alice", app: app(), at: at(30) });
    expect(d.allowed).toBe(false);
    expect(d.reason).toMatch(/stale/);
  });

  it("denies with no bundle at all", () => {
    expect(decide(null, { user: "alice", app: app(), at: at(1) })).toMatchObject({ allowed: false, reason: expect.stringMatching(/not synced/) });
  });

  it("takes the policy that lasts longest when several allow", () => {
    const d = decide(bundle([policy(), policy({ id: "p2", name: "Longer", endsAt: at(600).toISOString() })]), { user: "alice", app: app(), at: at(1) });
    expect(d.source?.id).toBe("p2");
    expect(d.expiresAt).toBe(at(600).toISOString());
  });
});

describe("decide: folderPath rules", () => {
  const b = bundle([policy({ applications: [{ type: "folderPath", path: "/opt/tools/" }] })]);
  it.each([
    ["a file directly inside", "/opt/tools/build", true],
    ["a file deeper inside", "/opt/tools/bin/x/y", true],
    ["a sibling folder sharing the prefix", "/opt/toolbox/x", false],
    ["the folder itself", "/opt/tools", false],
    ["an escape with ..", "/opt/tools/../../usr/bin/bash", false],
    ["a relative path", "opt/tools/build", false],
    ["a path with . segments", "/opt/tools/./build", false],
  ])("%s", (_, path, allowed) => {
    expect(decide(b, { user: "alice", app: app({ path, sha256: OTHER }), at: at(1) }).allowed).toBe(allowed);
  });

  it("a symlink into the folder is judged by its resolved path, which the probe supplies", () => {
    // The agent's probe resolves /opt/tools/link → /usr/bin/bash before deciding; decide sees the real path.
    expect(decide(b, { user: "alice", app: app({ path: "/usr/bin/bash" }), at: at(1) }).allowed).toBe(false);
  });
});

describe("decide: other rule types", () => {
  it.each([
    ["verified executable by name", { type: "verifiedExecutable", path: "tool" }, app({ verified: true }), true],
    ["verified executable, not verified", { type: "verifiedExecutable", path: "/usr/bin/tool" }, app({ verified: false }), false],
    ["vendor, case-insensitive", { type: "vendor", vendor: "Debian" }, app({ vendor: "debian" }), true],
    ["vendor unknown", { type: "vendor", vendor: "Debian" }, app(), false],
    ["product by package", { type: "product", product: "coreutils" }, app({ packageName: "coreutils" }), true],
    ["product with an unknown version fails a range", { type: "product", product: "coreutils", versions: ">=9" }, app({ packageName: "coreutils" }), false],
    ["product in its version range", { type: "product", product: "coreutils", versions: ">=9 <10" }, app({ packageName: "coreutils", packageVersion: "9.1-1" }), true],
    ["product below its version range", { type: "product", product: "coreutils", versions: ">=9" }, app({ packageName: "coreutils", packageVersion: "8.32-4" }), false],
    ["product, another package", { type: "product", product: "coreutils" }, app({ packageName: "dpkg" }), false],
    ["product, no package", { type: "product", product: "coreutils" }, app(), false],
    ["verified executable by full path", { type: "verifiedExecutable", path: "/usr/bin/tool" }, app({ verified: true }), true],
    ["verified executable, another path", { type: "verifiedExecutable", path: "/usr/sbin/tool" }, app({ verified: true }), false],
    ["verified executable, another name", { type: "verifiedExecutable", path: "other" }, app({ verified: true }), false],
    ["verified executable, verification unknown", { type: "verifiedExecutable", path: "tool" }, app(), false],
    ["vendor differs", { type: "vendor", vendor: "Debian" }, app({ vendor: "Ubuntu" }), false],
    ["clsid differs", { type: "clsid", clsid: "{12345678-1234-1234-1234-123456789ABC}" }, app({ clsid: "12345678-1234-1234-1234-123456789abd" }), false],
    ["clsid not given", { type: "clsid", clsid: "{12345678-1234-1234-1234-123456789ABC}" }, app(), false],
    ["windows folder, any case", { type: "folderPath", path: "C:\\Program Files\\Tools" }, app({ path: "c:\\PROGRAM FILES\\tools\\x.exe" }), true],
    ["windows folder, prefix look-alike", { type: "folderPath", path: "C:\\Tools" }, app({ path: "C:\\Toolsbox\\x.exe" }), false],
    ["windows verified executable by name, any case", { type: "verifiedExecutable", path: "setup.exe" }, app({ path: "C:\\Tools\\SETUP.EXE", verified: true }), true],
    ["clsid, braces optional", { type: "clsid", clsid: "{12345678-1234-1234-1234-123456789ABC}" }, app({ clsid: "12345678-1234-1234-1234-123456789abc" }), true],
  ] as const)("%s", (_, rule, identity, allowed) => {
    const b = bundle([policy({ applications: [rule] })]);
    expect(decide(b, { user: "alice", app: { ...identity, sha256: null }, at: at(1) }).allowed).toBe(allowed);
  });

  it("All Allowed Application(s) means the allowlist", () => {
    const b = bundle([policy({ applications: "allAllowed" })], { allowlist: [{ type: "fileHash", sha256: HASH }] });
    expect(decide(b, { user: "alice", app: app(), at: at(1) }).allowed).toBe(true);
    expect(decide(b, { user: "alice", app: app({ sha256: OTHER }), at: at(1) }).allowed).toBe(false);
  });
});

describe("decide: the trace", () => {
  it("with trace \"rules\" gives each rule's own verdict", () => {
    const b = bundle([policy({ applications: [{ type: "vendor", vendor: "Debian" }, { type: "fileHash", sha256: HASH }] })]);
    const d = decide(b, { user: "alice", app: app({ sha256: OTHER }), at: at(1) }, { trace: "rules" });
    expect(d.evaluated[0]!.rules).toEqual([
      { rule: "Vendor Debian", matched: false, detail: "the vendor is unknown" },
      { rule: `File Hash ${HASH}`, matched: false, detail: "SHA-256 differs" },
    ]);
  });

  it("with trace \"none\" only decides", () => {
    const d = decide(bundle([policy()]), { user: "alice", app: app(), at: at(1) }, { trace: "none" });
    expect(d).toMatchObject({ allowed: true, evaluated: [], evaluatedGrants: [] });
  });

  it("explains each grant", () => {
    const grant = { id: "g1", requestId: "r1", user: "bob", applications: [{ type: "fileHash" as const, sha256: HASH }], startsAt: T0.toISOString(), endsAt: at(30).toISOString() };
    const b = bundle([], { grants: [grant] });
    expect(decide(b, { user: "bob", app: app(), at: at(1) })).toMatchObject({ allowed: true, source: { type: "grant", id: "g1" }, evaluatedGrants: [{ grantId: "g1", outcome: "matched" }] });
    expect(decide(b, { user: "alice", app: app(), at: at(1) }).evaluatedGrants).toEqual([expect.objectContaining({ outcome: "user_not_covered" })]);
    expect(decide(b, { user: "bob", app: app({ sha256: OTHER }), at: at(1) }).evaluatedGrants).toEqual([expect.objectContaining({ outcome: "app_not_covered" })]);
    expect(decide(b, { user: "bob", app: app(), at: at(30) }).evaluatedGrants).toEqual([expect.objectContaining({ outcome: "ended" })]);
  });

  it("says when the allowlist is empty", () => {
    const d = decide(bundle([policy({ applications: "allAllowed" })]), { user: "alice", app: app(), at: at(1) });
    expect(d.evaluated[0]).toMatchObject({ outcome: "app_not_covered", detail: "the allowlist is empty" });
  });
});
