import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { AppRule } from "../../core/app-rule";
import type { Bundle, BundleGrant, BundlePolicy } from "../../core/bundle";
import { nextChangeAt, renderSudoers, safeSudoPath, safeSudoUser, type Executable } from "./sudoers";

const NOW = new Date("2026-03-01T10:00:00.000Z");
const H = (c: string) => c.repeat(64);
const ID: Executable = { path: "/usr/bin/id", sha256: H("a"), packageName: "coreutils", packageVersion: "9.1-1", vendor: "Debian", verified: true };
const LS: Executable = { path: "/usr/bin/ls", sha256: H("b"), packageName: "coreutils", packageVersion: "9.1-1", vendor: "Debian", verified: true };
const VIM: Executable = { path: "/usr/bin/vim.basic", sha256: H("c"), packageName: "vim", packageVersion: "2:9.0-1", vendor: "Debian", verified: false };
const TOOL: Executable = { path: "/opt/tools/deploy", sha256: H("d") };
const DEEP: Executable = { path: "/opt/tools/sub/build", sha256: H("e") };
const ACME: Executable = { path: "/opt/acme/bin/acmectl", sha256: H("f"), packageName: "acme-ctl", packageVersion: "1.2", vendor: "Acme" };
const FACTS = { executables: [ID, LS, VIM, TOOL, DEEP, ACME] };

function policy(users: BundlePolicy["users"], applications: BundlePolicy["applications"], span: [string, string] = ["2026-03-01T09:00:00.000Z", "2026-03-01T11:00:00.000Z"]): BundlePolicy {
  return { id: "p1", name: "P", revision: 1, users, applications, duration: { type: "fixed", length: "2h" }, startsAt: span[0], endsAt: span[1] };
}
function grant(user: string, applications: AppRule[], endsAt = "2026-03-01T10:20:00.000Z"): BundleGrant {
  return { id: "g1", requestId: "r1", user, applications, startsAt: "2026-03-01T09:50:00.000Z", endsAt };
}
function bundle(parts: Partial<Bundle>): Bundle {
  return { format: 1, computer: { id: "c1", name: "pc" }, version: 7, issuedAt: NOW.toISOString(), validUntil: "2026-03-02T00:00:00.000Z", policies: [], grants: [], allowlist: [], ...parts };
}
const entries = (b: Bundle | null, user = "alice") => renderSudoers(b, FACTS, NOW).entries.get(user) ?? [];

const dir = mkdtempSync(join(tmpdir(), "jit-sudoers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasVisudo = existsSync("/usr/sbin/visudo");
/** The real validator, where sudo is installed. */
function visudoOk(text: string): boolean {
  const f = join(dir, `t${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, text);
  try {
    execFileSync("/usr/sbin/visudo", ["-c", "-q", "-f", f], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(f, { force: true });
  }
}

describe("renderSudoers: one rule type at a time", () => {
  it.each<[string, AppRule[], string[]]>([
    ["File Hash → the executable with that digest, pinned", [{ type: "fileHash", sha256: H("a") }], [`sha256:${H("a")} /usr/bin/id`]],
    ["Verified Executable by path → pinned, only when verified", [{ type: "verifiedExecutable", path: "/usr/bin/id" }], [`sha256:${H("a")} /usr/bin/id`]],
    ["Verified Executable that is not verified → nothing", [{ type: "verifiedExecutable", path: "/usr/bin/vim.basic" }], []],
    ["Verified Executable by name → pinned", [{ type: "verifiedExecutable", path: "ls" }], [`sha256:${H("b")} /usr/bin/ls`]],
    ["Folder Path → directory form for files in it, deeper ones pinned", [{ type: "folderPath", path: "/opt/tools" }], ["/opt/tools/", `sha256:${H("e")} /opt/tools/sub/build`]],
    ["Vendor → the package's executables, pinned", [{ type: "vendor", vendor: "acme" }], [`sha256:${H("f")} /opt/acme/bin/acmectl`]],
    ["Products → the package's executables, pinned", [{ type: "product", product: "vim" }], [`sha256:${H("c")} /usr/bin/vim.basic`]],
    ["Products with a version range that does not hold → nothing", [{ type: "product", product: "vim", versions: ">= 3:0" }], []],
    ["CLSID → nothing on Linux", [{ type: "clsid", clsid: "00000000-0000-0000-0000-000000000000" }], []],
    ["Folder Path / → never the whole disk", [{ type: "folderPath", path: "/" }], []],
  ])("%s", (_name, rules, expected) => {
    const b = bundle({ policies: [policy(["alice"], rules)] });
    expect(entries(b)).toEqual(expected.sort());
    if (hasVisudo) expect(visudoOk(renderSudoers(b, FACTS, NOW).text)).toBe(true);
  });

  it("All Allowed Application(s) → the allowlist expanded the same way", () => {
    const b = bundle({ policies: [policy(["alice"], "allAllowed")], allowlist: [{ type: "fileHash", sha256: H("b") }, { type: "folderPath", path: "/opt/tools/" }] });
    expect(entries(b)).toEqual(["/opt/tools/", `sha256:${H("b")} /usr/bin/ls`, `sha256:${H("e")} /opt/tools/sub/build`].sort());
  });

  it("an approved request → the requested executable, pinned, for its user only, until it ends", () => {
    const b = bundle({ grants: [grant("Alice", [{ type: "fileHash", sha256: H("a") }])] });
    const r = renderSudoers(b, FACTS, NOW);
    expect(r.entries.get("alice")).toEqual([`sha256:${H("a")} /usr/bin/id`]);
    expect(r.entries.has("bob")).toBe(false);
    expect(r.text).toContain("Defaults:alice timestamp_timeout=0\n");
    expect(r.text).toContain(`alice ALL=(root) NOPASSWD: sha256:${H("a")} /usr/bin/id\n`);
    expect(renderSudoers(b, FACTS, new Date("2026-03-01T10:20:00.000Z")).entries.size).toBe(0);
    expect(nextChangeAt(b, NOW)?.toISOString()).toBe("2026-03-01T10:20:00.000Z");
  });

  it("policies for all users → the ALL user; inactive or stale bundles → nothing", () => {
    const all = bundle({ policies: [policy("all", [{ type: "fileHash", sha256: H("a") }])] });
    expect(entries(all, "ALL")).toEqual([`sha256:${H("a")} /usr/bin/id`]);
    expect(renderSudoers(bundle({ policies: [policy(["alice"], [{ type: "fileHash", sha256: H("a") }], ["2026-03-01T10:30:00.000Z", "2026-03-01T11:00:00.000Z"])] }), FACTS, NOW).entries.size).toBe(0);
    expect(renderSudoers({ ...all, validUntil: "2026-03-01T09:59:59.000Z" }, FACTS, NOW).entries.size).toBe(0);
    expect(renderSudoers(null, FACTS, NOW).entries.size).toBe(0);
  });

  it("no grants render an empty-but-valid file (the header only)", () => {
    const r = renderSudoers(bundle({}), FACTS, NOW);
    expect(r.text.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([]);
    if (hasVisudo) expect(visudoOk(r.text)).toBe(true);
  });
});

describe("renderSudoers: nothing from outside becomes sudoers syntax", () => {
  it.each(["ALL", "root,bob", "alice bob", "%admin", "#0", "alice\nbob ALL=(ALL) ALL", "a:b", "a=b", "a\\b", "", "x".repeat(40), "bob.", "-x"])("refuses the user name %j", (name) => {
    expect(safeSudoUser(name)).toBeNull();
    const r = renderSudoers(bundle({ grants: [grant(name, [{ type: "fileHash", sha256: H("a") }])] }), FACTS, NOW);
    expect(r.entries.size).toBe(0);
    expect(r.refused.length).toBe(1);
  });

  it.each(["/opt/a b", "/opt/a,b", "/opt/a:b", "/opt/*", "/opt/a=b", "/opt/a\\b", "/opt/a\nALL", "/opt/../etc", "/opt/a\"b", "relative/x"])("refuses the path %j", (p) => {
    expect(safeSudoPath(p)).toBeNull();
    const r = renderSudoers(bundle({ policies: [policy(["alice"], [{ type: "fileHash", sha256: H("9") }])] }), { executables: [{ path: p, sha256: H("9") }] }, NOW);
    expect(r.entries.size).toBe(0);
  });

  it("fuzzed user names, paths, vendors and folders never add a line that is not ours, and visudo accepts every render", () => {
    const nasty = fc.string({ unit: fc.constantFrom(..."aA_-./ ,:=\\\n\r#%!()*?[]\"'@$+0ALL".split("")), maxLength: 24 });
    fc.assert(
      fc.property(nasty, nasty, nasty, nasty, (user, path, vendor, folder) => {
        const b = bundle({
          policies: [policy([user || "x"], [{ type: "vendor", vendor: vendor || "v" }, { type: "folderPath", path: "/" + folder }, { type: "fileHash", sha256: H("9") }])],
          grants: [grant(user || "x", [{ type: "fileHash", sha256: H("9") }])],
        });
        const facts = { executables: [{ path: "/" + path, sha256: H("9"), vendor: vendor || "v", packageName: "p" }] };
        const r = renderSudoers(b, facts, NOW);
        for (const line of r.text.split("\n")) {
          if (line === "" || line.startsWith("# ")) continue;
          expect(line).toMatch(/^(Defaults:[a-z_][a-z0-9_.-]* timestamp_timeout=0|[a-z_][a-z0-9_.-]* ALL=\(root\) NOPASSWD: ((sha256:[0-9a-f]{64} )?(\/[A-Za-z0-9._+-]+)+\/?)(, (sha256:[0-9a-f]{64} )?(\/[A-Za-z0-9._+-]+)+\/?)*)$/);
        }
        if (hasVisudo && r.entries.size > 0) expect(visudoOk(r.text)).toBe(true);
      }),
      { numRuns: hasVisudo ? 150 : 500 },
    );
  });
});
