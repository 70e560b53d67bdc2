// Issue 3 end to end: a policy of each rule type (Vendor, Products with a version range, Verified Executable,
// File Hash, CLSID, Folder Path) created through the console's form takes effect on an enrolled agent
// (`jit-agent check --json`), and Test access in the console agrees with the agent.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { eventually, run, spawnDaemon, startServer, tempDir, type ServerProcess } from "./support";

type CheckJson = {
  allowed: boolean;
  reason: string;
  source: { type: string; id: string; name: string } | null;
  app: { path: string; sha256: string | null; vendor?: string | null; packageName?: string | null; packageVersion?: string | null; verified?: boolean | null; clsid?: string | null };
};

const OWNER = { email: "owner@example.com", password: "a long owner passphrase" };
const DPKG = "/usr/bin/dpkg";
const CLSID = "{0A1B2C3D-1111-2222-3333-444455556666}";

type RuleCase = { policy: string; user: string; ruleLabel: string; value: string; versions?: string };

async function createPolicy(page: Page, c: RuleCase) {
  await page.goto(`${new URL(page.url()).origin}/policies/new`);
  await page.getByLabel("Name", { exact: true }).fill(c.policy);
  await page.getByLabel("Computer Name").fill("build-*");
  await page.getByLabel("User Name").fill(c.user);
  await page.getByRole("radio", { name: "Fixed" }).check();
  await page.getByLabel("Duration").fill("2");
  await page.getByRole("radio", { name: "Specific applications" }).check();
  await page.getByLabel("Rule type").selectOption({ label: c.ruleLabel });
  await page.getByLabel("Value").fill(c.value);
  if (c.versions) await page.getByLabel("Version range").fill(c.versions);
  await page.getByLabel("Deploy Immediately").check();
  await page.getByRole("button", { name: "Create policy" }).click();
  await expect(page).toHaveURL(/\/policies$/);
}

/** Test access on a policy's page, with the identity the agent probed; returns what the console shows. */
async function testAccess(page: Page, policyName: string, user: string, app: CheckJson["app"]) {
  await page.goto(`${new URL(page.url()).origin}/policies`);
  await page.getByRole("link", { name: policyName, exact: true }).click();
  await page.getByRole("tab", { name: "Test access" }).click();
  await page.getByLabel("User", { exact: true }).fill(user);
  await page.getByLabel("Path").fill(app.path);
  await page.getByLabel("SHA-256").fill(app.sha256 ?? "");
  await page.getByLabel("Vendor").fill(app.vendor ?? "");
  await page.getByLabel(/^Product\s*\(optional\)$/).fill(app.packageName ?? "");
  await page.getByLabel("Product version").fill(app.packageVersion ?? "");
  await page.getByLabel("Verified").selectOption(app.verified === true ? "yes" : app.verified === false ? "no" : "unknown");
  await page.getByLabel("CLSID").fill(app.clsid ?? "");
  await page.getByRole("button", { name: "Test access" }).click();
  const status = page.getByRole("status", { name: "Test access result" });
  await expect(status).toBeVisible();
  const text = (await status.textContent()) ?? "";
  return { allowed: /^\s*Allowed/.test(text), text };
}

test("each rule type, created through the form, takes effect on the agent; Test access agrees", async ({ page }) => {
  test.setTimeout(240_000);
  page.setDefaultTimeout(20_000);
  const server: ServerProcess = await startServer();
  const state = tempDir("agent");
  const files = tempDir("files");
  let daemon: ReturnType<typeof spawnDaemon> | null = null;
  try {
    // Files to decide on: the real /usr/bin/dpkg, a copy of it (same hash, no package), and tools in a folder.
    const copy = join(files.path, "dpkg-copy");
    copyFileSync(DPKG, copy);
    const toolsDir = join(files.path, "tools");
    mkdirSync(toolsDir);
    const inFolder = join(toolsDir, "deploy");
    writeFileSync(inFolder, "#!/bin/sh\necho deploy\n", { mode: 0o755 });
    const lookAlike = join(files.path, "toolsbox");
    writeFileSync(lookAlike, "#!/bin/sh\necho other\n", { mode: 0o755 });
    const hashed = join(files.path, "hashed-tool");
    writeFileSync(hashed, "#!/bin/sh\necho hashed\n", { mode: 0o755 });
    const hashedSha = createHash("sha256").update(readFileSync(hashed)).digest("hex");
    const dpkgVersion = execFileSync("dpkg-query", ["-W", "-f", "${Version}", "dpkg"], { encoding: "utf8" });

    const agent = (...args: string[]) => run("jit-agent", [...args, "--state-dir", state.path]);
    const check = async (user: string, path: string, ...extra: string[]) => {
      const r = await agent("check", "--user", user, "--path", path, "--json", ...extra);
      expect(r.stderr).toBe("");
      return JSON.parse(r.stdout) as CheckJson;
    };

    // Owner, then a computer enrolled with the command the console shows.
    await page.goto(server.url);
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password", { exact: true }).fill(OWNER.password);
    await page.getByLabel("Confirm password").fill(OWNER.password);
    await page.getByRole("button", { name: "Create owner account" }).click();
    await page.getByRole("link", { name: "Computers" }).click();
    await page.getByRole("button", { name: "Add computer" }).click();
    const command = (await page.getByText(/^jit-agent enroll --server /).textContent())!.trim();
    const [, ...args] = command.split(/\s+/);
    const enrolled = await run("jit-agent", [...args, "--name", "build-07", "--state-dir", state.path]);
    expect(enrolled.code).toBe(0);
    daemon = spawnDaemon("jit-agent", ["run", "--state-dir", state.path]);

    // What the agent's probe says about dpkg: the vendor and product rules are built from it.
    const probed = (await check("nobody", DPKG)).app;
    expect(probed).toMatchObject({ path: DPKG, packageName: "dpkg", packageVersion: dpkgVersion, verified: true });
    expect(probed.vendor).toBeTruthy();

    const cases: Array<RuleCase & { path: string; extra?: string[]; negative: Array<{ path: string; extra?: string[] }> }> = [
      { policy: "Vendor rule", user: "vera", ruleLabel: "Vendor", value: probed.vendor!.toUpperCase(), path: DPKG, negative: [{ path: copy }] },
      { policy: "Product rule", user: "pete", ruleLabel: "Products", value: "dpkg", versions: `>=1.0 <${Number(dpkgVersion.split(".")[0]) + 1}`, path: DPKG, negative: [{ path: copy }] },
      { policy: "Verified rule", user: "vic", ruleLabel: "Verified Executable", value: DPKG, path: DPKG, negative: [{ path: copy }] },
      { policy: "Hash rule", user: "hana", ruleLabel: "File Hash", value: hashedSha, path: hashed, negative: [{ path: inFolder }] },
      { policy: "CLSID rule", user: "cleo", ruleLabel: "CLSID", value: CLSID, path: hashed, extra: ["--clsid", CLSID.toLowerCase().replace(/[{}]/g, "")], negative: [{ path: hashed }, { path: hashed, extra: ["--clsid", "{0A1B2C3D-1111-2222-3333-444455556667}"] }] },
      { policy: "Folder rule", user: "fred", ruleLabel: "Folder Path", value: `${toolsDir}/`, path: inFolder, negative: [{ path: lookAlike }, { path: `${toolsDir}/../toolsbox` }] },
    ];

    for (const c of cases) {
      expect((await check(c.user, c.path, ...(c.extra ?? []))).allowed, `${c.policy} before`).toBe(false);
      await createPolicy(page, c);
      const allowed = await eventually(async () => {
        const r = await check(c.user, c.path, ...(c.extra ?? []));
        return r.allowed ? r : null;
      }, 15_000);
      expect(allowed.source).toMatchObject({ type: "policy", name: c.policy });
      for (const n of c.negative) expect((await check(c.user, n.path, ...(n.extra ?? []))).allowed, `${c.policy} negative ${n.path}`).toBe(false);
      // Another user is not covered.
      expect((await check("mallory", c.path, ...(c.extra ?? []))).allowed).toBe(false);
    }

    // Test access in the console decides as the agent did, for allowed and denied cases alike.
    const probes: Array<{ policy: string; user: string; path: string; extra?: string[] }> = [
      { policy: "Vendor rule", user: "vera", path: DPKG },
      { policy: "Verified rule", user: "vic", path: copy },
      { policy: "Product rule", user: "pete", path: DPKG },
      { policy: "CLSID rule", user: "cleo", path: hashed, extra: ["--clsid", CLSID] },
      { policy: "Folder rule", user: "fred", path: lookAlike },
      { policy: "Hash rule", user: "mallory", path: hashed },
    ];
    for (const p of probes) {
      const fromAgent = await check(p.user, p.path, ...(p.extra ?? []));
      const fromConsole = await testAccess(page, p.policy, p.user, fromAgent.app);
      expect(fromConsole.allowed, `${p.policy} ${p.user} ${p.path}`).toBe(fromAgent.allowed);
      expect(fromConsole.text).toContain(fromAgent.reason);
    }

    // All Allowed Application(s) means the allowlist, as it is at each decision: `jit-ctl allowlist apply -f FILE`.
    await page.goto(`${server.url}/policies/new`);
    await page.getByLabel("Name", { exact: true }).fill("Allowed apps");
    await page.getByLabel("Computer Name").fill("build-07");
    await page.getByLabel("User Name").fill("alma");
    await page.getByRole("radio", { name: "All Allowed Application(s)" }).check();
    await page.getByLabel("Deploy Immediately").check();
    await page.getByRole("button", { name: "Create policy" }).click();
    await expect(page).toHaveURL(/\/policies$/);
    // The policy reaches the agent, and with an empty allowlist it allows nothing.
    const empty = await eventually(async () => {
      const r = JSON.parse((await agent("check", "--user", "alma", "--path", hashed, "--json", "--explain")).stdout) as CheckJson & { evaluated: { policyName: string; detail: string }[] };
      return r.evaluated.find((e) => e.policyName === "Allowed apps") ? r : null;
    }, 15_000);
    expect(empty.allowed).toBe(false);
    expect(empty.evaluated).toContainEqual(expect.objectContaining({ policyName: "Allowed apps", detail: "the allowlist is empty" }));
    const ctlEnv = { XDG_CONFIG_HOME: join(files.path, "ctl"), JIT_PASSWORD: OWNER.password };
    expect((await run("jit-ctl", ["login", "--server", server.url, "--email", OWNER.email], ctlEnv)).code).toBe(0);
    const allowFile = join(files.path, "allowlist.json");
    writeFileSync(allowFile, JSON.stringify({ entries: [{ name: "Hashed tool", rule: { type: "fileHash", sha256: hashedSha } }] }));
    const applied = await run("jit-ctl", ["allowlist", "apply", "-f", allowFile], ctlEnv);
    expect(applied.stdout).toMatch(/1 added/);
    expect((await run("jit-ctl", ["allowlist", "list"], ctlEnv)).stdout).toMatch(/Hashed tool\s+File Hash/);
    const viaAllowlist = await eventually(async () => {
      const r = await check("alma", hashed);
      return r.allowed ? r : null;
    }, 15_000);
    expect(viaAllowlist.reason).toMatch(/allowlisted: File Hash/);
    await page.goto(`${server.url}/allowlist`);
    await expect(page.getByRole("cell", { name: "Hashed tool" })).toBeVisible();
    await page.getByRole("button", { name: "Remove" }).click();
    await expect(page.getByText("The allowlist is empty")).toBeVisible();
    await eventually(async () => ((await check("alma", hashed)).allowed ? null : true), 15_000);

    // The trace names the policy that matched and why the others did not.
    await testAccess(page, "Vendor rule", "vera", probed);
    await expect(page.getByRole("list", { name: "Trace" })).toContainText("Policy Vendor rule");
    await expect(page.getByRole("list", { name: "Trace" })).toContainText("User not covered");

    // Lifecycle in the console: edit a deployed policy (a new revision, redeployed; the old one readable), duplicate
    // it as a draft, delete the draft.
    const inFolderSha = createHash("sha256").update(readFileSync(inFolder)).digest("hex");
    await page.goto(`${server.url}/policies`);
    await page.getByRole("link", { name: "Hash rule", exact: true }).click();
    await page.getByRole("link", { name: "Edit" }).click();
    await expect(page.getByLabel("Name", { exact: true })).toHaveValue("Hash rule");
    await page.getByLabel("Value").fill(inFolderSha);
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page).toHaveURL(/\/policies\/[^/]+$/);
    await eventually(async () => ((await check("hana", inFolder)).allowed ? true : null), 15_000);
    expect((await check("hana", hashed)).allowed).toBe(false);
    await page.getByRole("tab", { name: "Versions" }).click();
    const versions = page.getByRole("list", { name: "Versions" });
    await expect(versions).toContainText("Revision 2");
    await expect(versions).toContainText("Revision 1");
    await expect(versions).toContainText(hashedSha);
    await page.getByRole("button", { name: "Duplicate" }).click();
    await expect(page.getByRole("heading", { name: /Hash rule \(copy\)/ })).toBeVisible();
    await expect(page.getByRole("button", { name: "Deploy" })).toBeVisible();
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Delete" }).click();
    await expect(page).toHaveURL(/\/policies$/);
    await expect(page.getByRole("link", { name: "Hash rule (copy)" })).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Hash rule", exact: true })).toBeVisible();
  } finally {
    await daemon?.stop();
    await server.stop();
    state.remove();
    files.remove();
  }
});
