// The identity probe on this machine's real files: /usr/bin/dpkg belongs to package dpkg and is verified; a copy
// of it in a temp folder has the same hash but no package and is not verified.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AppRule } from "../../core/app-rule";
import { matchAppRule } from "../../core/decide";
import { makeTempDir } from "../test-fixtures";
import { vendorOf, parseSearchOutput, lookupPackage, type DpkgQuery } from "./dpkg";
import { probeIdentity, ProbeCache } from "./identity";

const DPKG = "/usr/bin/dpkg";
const dpkgQuery = (...args: string[]) => execFileSync("dpkg-query", args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });

let dir: string;
beforeEach(async () => {
  dir = await fs.realpath(await makeTempDir());
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("probeIdentity on real files", () => {
  // What dpkg-query itself says, independently of the probe.
  const [pkg, version, maintainer, origin, vendorField] = dpkgQuery("-W", "-f", "${Package}\\t${Version}\\t${Maintainer}\\t${Origin}\\t${Vendor}", "dpkg").split("\t");
  const sha256 = createHash("sha256").update(readFileSync(DPKG)).digest("hex");

  it("/usr/bin/dpkg is owned by package dpkg, with its version and vendor, and verified", async () => {
    expect(dpkgQuery("-S", DPKG)).toMatch(/^dpkg: \/usr\/bin\/dpkg$/m);
    const r = await probeIdentity(DPKG);
    expect(r.ok).toBe(true);
    expect(r.app).toMatchObject({ path: DPKG, sha256, packageName: "dpkg", packageVersion: version, vendor: vendorOf({ maintainer, origin, vendor: vendorField }), verified: true });
    expect(r.notes).toEqual([]);
  });

  it("matches vendor, product and verifiedExecutable rules built from what dpkg-query says", async () => {
    const { app } = await probeIdentity(DPKG);
    const rules: AppRule[] = [
      { type: "vendor", vendor: vendorOf({ maintainer, origin, vendor: vendorField })!.toUpperCase() },
      { type: "product", product: pkg! },
      { type: "product", product: pkg!, versions: `>=${version}` },
      { type: "product", product: pkg!, versions: `>=1.0 <${version!.split(".")[0]! + "99"}` },
      { type: "verifiedExecutable", path: DPKG },
      { type: "verifiedExecutable", path: "dpkg" },
      { type: "fileHash", sha256 },
    ];
    for (const rule of rules) expect(matchAppRule(rule, app), JSON.stringify(rule)).toMatchObject({ matched: true });
    expect(matchAppRule({ type: "product", product: pkg!, versions: `>${version}` }, app).matched).toBe(false);
    expect(matchAppRule({ type: "vendor", vendor: "Someone Else" }, app).matched).toBe(false);
  });

  it("a copy in a temp folder has the same hash, but no package and is not verified", async () => {
    const copy = join(dir, "dpkg");
    await fs.copyFile(DPKG, copy);
    const r = await probeIdentity(copy);
    expect(r.app).toMatchObject({ path: copy, sha256, packageName: null, packageVersion: null, vendor: null, verified: false });
    expect(r.notes).toEqual([expect.stringMatching(/no Debian package owns this file/)]);
    expect(matchAppRule({ type: "verifiedExecutable", path: "dpkg" }, r.app).matched).toBe(false);
    expect(matchAppRule({ type: "product", product: "dpkg" }, r.app).matched).toBe(false);
    expect(matchAppRule({ type: "fileHash", sha256 }, r.app).matched).toBe(true);
  });

  it("a symlink to /usr/bin/dpkg is probed as the real file", async () => {
    const link = join(dir, "link");
    await fs.symlink(DPKG, link);
    const r = await probeIdentity(link);
    expect(r.app).toMatchObject({ path: DPKG, packageName: "dpkg", verified: true });
  });

  it("finds the owner of a merged-/usr file recorded under /bin (coreutils' ls)", async () => {
    const real = await fs.realpath("/bin/ls");
    const r = await probeIdentity(real);
    expect(r.app).toMatchObject({ packageName: "coreutils", verified: true });
  });
});

describe("the probe cache", () => {
  it("a repeated probe of an unchanged file is served from the cache; a changed file is rehashed", async () => {
    const file = join(dir, "tool");
    await fs.writeFile(file, "one");
    const cache = new ProbeCache(join(dir, "cache.json"));
    const first = await probeIdentity(file, { cache });
    expect(first.cached).toBe(false);
    const again = await probeIdentity(file, { cache: new ProbeCache(join(dir, "cache.json")) });
    expect(again).toMatchObject({ cached: true, app: { sha256: first.app.sha256 } });
    // Replace the file (a new inode) with other content: not a cache hit.
    await fs.writeFile(join(dir, "tool.new"), "two");
    await fs.rename(join(dir, "tool.new"), file);
    const changed = await probeIdentity(file, { cache });
    expect(changed.cached).toBe(false);
    expect(changed.app.sha256).toBe(createHash("sha256").update("two").digest("hex"));
  });
});

describe("degraded probes say why", () => {
  it("without dpkg the package facts are unknown, not false, and the note says so", async () => {
    const noDpkg: DpkgQuery = async () => {
      throw Object.assign(new Error("spawn dpkg-query ENOENT"), { code: "ENOENT" });
    };
    const r = await probeIdentity(DPKG, { query: noDpkg });
    expect(r.ok).toBe(true);
    expect(r.app).toMatchObject({ packageName: null, vendor: null, verified: null });
    expect(r.notes).toEqual([expect.stringMatching(/dpkg-query is not installed: product, vendor and verification unknown/)]);
  });

  it("an unreadable file is not ok and says why", async () => {
    const r = await probeIdentity(join(dir, "missing"));
    expect(r.ok).toBe(false);
    expect(r.notes[0]).toMatch(/does not exist/);
  });

  it("a file changed after its package installed it is not verified", async () => {
    // A fake package database answer: the file is "owned" but its recorded digest differs.
    const file = join(dir, "tool");
    await fs.writeFile(file, "modified");
    const md5sums = join(dir, "tool.md5sums");
    await fs.writeFile(md5sums, `${"0".repeat(32)}  ${file.slice(1)}\n`);
    const query: DpkgQuery = async (args) => {
      if (args[0] === "-S") return { code: 0, stdout: `tool: ${file}\n`, stderr: "" };
      if (args[0] === "-W") return { code: 0, stdout: "tool\t1.0-1\tA Person <a@example.org>\t\t\n", stderr: "" };
      return { code: 0, stdout: `${md5sums}\n`, stderr: "" };
    };
    const r = await probeIdentity(file, { query });
    expect(r.app).toMatchObject({ packageName: "tool", packageVersion: "1.0-1", vendor: "Example", verified: false });
    expect(r.notes[0]).toMatch(/differs from what package tool installed/);
  });
});

describe("dpkg output", () => {
  it("reads the owner and skips diversions", () => {
    expect(parseSearchOutput("diversion by x from: /usr/bin/a\ndpkg: /usr/bin/a\n", "/usr/bin/a")).toBe("dpkg");
    expect(parseSearchOutput("libc6:amd64, libc6:i386: /lib/x\n", "/lib/x")).toBe("libc6:amd64");
    expect(parseSearchOutput("", "/x")).toBeNull();
  });

  it("names the vendor: Origin, then Vendor, then the maintainer's organisation", () => {
    expect(vendorOf({ origin: "Ubuntu", maintainer: "X <x@debian.org>" })).toBe("Ubuntu");
    expect(vendorOf({ vendor: "Acme", maintainer: "X <x@debian.org>" })).toBe("Acme");
    expect(vendorOf({ maintainer: "Dpkg Developers <debian-dpkg@lists.debian.org>" })).toBe("Debian");
    expect(vendorOf({ maintainer: "Someone <s@example.co.uk>" })).toBe("Example");
    expect(vendorOf({ maintainer: "Just A Name" })).toBe("Just A Name");
    expect(vendorOf({})).toBeNull();
  });

  it("reports an unowned file", async () => {
    expect(await lookupPackage(join(dir, "nothing"))).toEqual({ status: "unowned" });
  });
});
