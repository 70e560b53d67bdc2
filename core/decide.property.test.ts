// Property tests for decide(): the index agrees with a brute-force scan, folder rules cannot be escaped,
// nothing is allowed outside a policy's time, and policies only ever add allows.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AppRule } from "./app-rule";
import type { Bundle, BundlePolicy } from "./bundle";
import { decide, decideByScan, type AppIdentity } from "./decide";
import { pathKey } from "./paths";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

const hashes = ["a", "b", "c"].map((c) => c.repeat(64));
const vendors = ["Debian", "debian", "Acme Corp", "Dpkg Developers"];
const products = ["dpkg", "coreutils", "Tool"];
const versions = ["1.0", "1.21.22", "2:0.9", "3~rc1", "9.1-1"];
const ranges = [">=1.2", "<3", ">=1.2 <2", "1.21.22", ">=2:0"];
const clsids = ["{12345678-1234-1234-1234-123456789abc}", "12345678-1234-1234-1234-123456789ABD"];
const folders = ["/opt/tools", "/opt/tool", "/usr", "/", "C:\\Tools", "c:/Program Files"];
const files = ["/opt/tools/x", "/opt/toolbox/x", "/opt/tool/x", "/usr/bin/dpkg", "/usr/bin/tool", "C:\\Tools\\x.exe", "c:\\program files\\x.exe", "/opt/tools/../x"];
const names = ["x", "dpkg", "tool", "X.EXE"];
const users = ["alice", "Bob", "CORP\\alice", "carol@corp.example"];

const rule: fc.Arbitrary<AppRule> = fc.oneof(
  fc.constantFrom(...hashes).map((sha256) => ({ type: "fileHash" as const, sha256 })),
  fc.constantFrom(...vendors).map((vendor) => ({ type: "vendor" as const, vendor })),
  fc.tuple(fc.constantFrom(...products), fc.option(fc.constantFrom(...ranges), { nil: undefined })).map(([product, v]) => ({ type: "product" as const, product, ...(v ? { versions: v } : {}) })),
  fc.constantFrom(...clsids).map((clsid) => ({ type: "clsid" as const, clsid })),
  fc.constantFrom(...folders).map((path) => ({ type: "folderPath" as const, path })),
  fc.constantFrom(...files, ...names).map((path) => ({ type: "verifiedExecutable" as const, path })),
);

const appIdentity: fc.Arbitrary<AppIdentity> = fc.record({
  path: fc.constantFrom(...files),
  sha256: fc.option(fc.constantFrom(...hashes), { nil: null }),
  vendor: fc.option(fc.constantFrom(...vendors), { nil: null }),
  packageName: fc.option(fc.constantFrom(...products), { nil: null }),
  packageVersion: fc.option(fc.constantFrom(...versions), { nil: null }),
  verified: fc.option(fc.boolean(), { nil: null }),
  clsid: fc.option(fc.constantFrom(...clsids), { nil: null }),
});

const policyArb = (id: string): fc.Arbitrary<BundlePolicy> =>
  fc
    .record({
      users: fc.oneof(fc.constant("all" as const), fc.uniqueArray(fc.constantFrom(...users), { minLength: 1, maxLength: 2 })),
      applications: fc.oneof(fc.constant("allAllowed" as const), fc.array(rule, { minLength: 1, maxLength: 4 })),
      start: fc.integer({ min: -60, max: 60 }),
      length: fc.integer({ min: 1, max: 120 }),
    })
    .map(({ users, applications, start, length }) => ({
      id,
      name: `policy ${id}`,
      revision: 1,
      users,
      applications,
      duration: { type: "fixed" as const, length: `${length}m` },
      startsAt: iso(start),
      endsAt: iso(start + length),
    }));

const bundleArb: fc.Arbitrary<Bundle> = fc
  .record({
    n: fc.integer({ min: 0, max: 5 }),
    allowlist: fc.array(rule, { maxLength: 4 }),
    grants: fc.array(fc.record({ user: fc.constantFrom(...users), applications: fc.array(rule, { minLength: 1, maxLength: 2 }), start: fc.integer({ min: -30, max: 30 }), length: fc.integer({ min: 1, max: 60 }) }), { maxLength: 2 }),
  })
  .chain(({ n, allowlist, grants }) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => policyArb(`p${i}`))).map((policies) => ({
      format: 1 as const,
      computer: { id: "c1", name: "build-01" },
      version: 1,
      issuedAt: iso(-120),
      validUntil: iso(24 * 60),
      policies,
      grants: grants.map((g, i) => ({ id: `g${i}`, requestId: `r${i}`, user: g.user, applications: g.applications, startsAt: iso(g.start), endsAt: iso(g.start + g.length) })),
      allowlist,
    })),
  );

const when = fc.integer({ min: -90, max: 200 }).map((m) => new Date(T0 + m * 60_000));
const userArb = fc.constantFrom(...users, "mallory", "ALICE");

describe("decide() properties", () => {
  it("the index decides exactly as a scan of every rule does", () => {
    fc.assert(
      fc.property(bundleArb, appIdentity, userArb, when, (bundle, app, user, at) => {
        const d = decide(bundle, { user, app, at });
        const ref = decideByScan(bundle, { user, app, at });
        expect({ allowed: d.allowed, sourceId: d.source?.id ?? null, expiresAt: d.expiresAt }).toEqual(ref);
        // The trace agrees with the decision.
        if (d.source?.type === "policy") expect(d.evaluated.find((e) => e.policyId === d.source!.id)?.outcome).toBe("matched");
        if (!d.allowed) expect(d.evaluated.every((e) => e.outcome !== "matched") && d.evaluatedGrants.every((e) => e.outcome !== "matched")).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("nothing is allowed outside every policy's and grant's time", () => {
    fc.assert(
      fc.property(bundleArb, appIdentity, userArb, when, (bundle, app, user, at) => {
        const t = at.getTime();
        const inside = [...bundle.policies, ...bundle.grants].some((p) => t >= Date.parse(p.startsAt) && t < Date.parse(p.endsAt));
        if (!inside) expect(decide(bundle, { user, app, at }).allowed).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("adding a policy never removes an allow; disabling (removing) one never adds one", () => {
    fc.assert(
      fc.property(bundleArb, policyArb("extra"), appIdentity, userArb, when, (bundle, extra, app, user, at) => {
        const before = decide(bundle, { user, app, at }).allowed;
        const added = decide({ ...bundle, policies: [...bundle.policies, extra] }, { user, app, at }).allowed;
        if (before) expect(added).toBe(true);
        for (let i = 0; i < bundle.policies.length; i++) {
          const without = decide({ ...bundle, policies: bundle.policies.filter((_, j) => j !== i) }, { user, app, at }).allowed;
          if (!before) expect(without).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("folder containment cannot be escaped", () => {
  const segment = fc.oneof(fc.constantFrom("..", ".", "", "bin", "x", "tools", "TOOLS", "toolbox"), fc.stringMatching(/^[a-z]{1,4}$/));
  const folderBundle = (path: string): Bundle => ({
    format: 1,
    computer: { id: "c1", name: "c" },
    version: 1,
    issuedAt: iso(0),
    validUntil: iso(600),
    policies: [{ id: "p", name: "p", revision: 1, users: "all", applications: [{ type: "folderPath", path }], duration: { type: "fixed", length: "1h" }, startsAt: iso(0), endsAt: iso(60) }],
    grants: [],
    allowlist: [],
  });
  const allowed = (folder: string, path: string) => decide(folderBundle(folder), { user: "alice", app: { path }, at: new Date(T0 + 60_000) }).allowed;

  it("POSIX: allowed only for a resolved path strictly inside, by whole segments (.., prefix look-alikes, trailing slashes)", () => {
    fc.assert(
      fc.property(fc.constantFrom("/opt/tools", "/opt/tools/", "/opt/tools//", "/"), fc.constantFrom("", "box", "/..", "/."), fc.array(segment, { maxLength: 5 }), (folder, glue, segs) => {
        const path = `/opt/tools${glue}/${segs.join("/")}`;
        const ok = allowed(folder, path);
        // The oracle: one trailing "/" is tolerated; otherwise every segment is a real name.
        const key = path.replace(/\/$/, "");
        const resolved = key.slice(1).split("/").every((s) => s !== "" && s !== "." && s !== "..");
        const base = pathKey(folder)!;
        const inside = resolved && (base === "/" ? key !== "" : key.startsWith(base + "/"));
        expect(ok).toBe(inside);
      }),
      { numRuns: 3000 },
    );
  });

  it("a symlink is judged by the resolved path the probe gives, so a link inside pointing out is outside", () => {
    // /opt/tools/sh → /bin/sh: the probe reports /usr/bin/dash (realpath), not the link's own path.
    expect(allowed("/opt/tools", "/usr/bin/dash")).toBe(false);
    expect(allowed("/opt/tools", "/opt/tools/sh")).toBe(true);
  });

  it("Windows-style: case-insensitive, either separator, no escape by ..", () => {
    fc.assert(
      fc.property(fc.constantFrom("C:\\Tools", "c:/tools/", "C:\\TOOLS\\"), fc.constantFrom("C:\\Tools", "c:\\tools", "C:/TOOLS", "C:\\Toolsbox", "D:\\Tools"), fc.array(segment, { minLength: 1, maxLength: 4 }), (folder, prefix, segs) => {
        const path = `${prefix}\\${segs.join("\\")}`;
        const named = segs.at(-1) === "" ? segs.slice(0, -1) : segs;
        const resolved = named.length > 0 && named.every((s) => s !== "" && s !== "." && s !== "..");
        const inside = resolved && /^c:[\\/]tools$/i.test(prefix);
        expect(allowed(folder, path)).toBe(inside);
      }),
      { numRuns: 2000 },
    );
  });
});
