// The spine end to end: a new admin creates the owner, adds a computer, enrolls a real agent with the shown
// command, deploys a Fixed File Hash policy through the form; the agent decides; a Window ends without the server.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { eventually, run, spawnDaemon, startServer, tempDir, type ServerProcess } from "./support";

type CheckJson = { allowed: boolean; reason: string; source: { type: string; id: string; name: string } | null; expiresAt: string | null; evaluated?: { policyName: string; outcome: string }[] };

const OWNER = { email: "owner@example.com", password: "a long owner passphrase" };

test("owner → computer → agent → Fixed policy through the form → decisions; a Window ends offline", async ({ page }) => {
  const server: ServerProcess = await startServer();
  const state = tempDir("agent");
  const files = tempDir("files");
  const ctlHome = tempDir("ctl");
  const secondState = tempDir("agent2");
  let daemon: ReturnType<typeof spawnDaemon> | null = null;
  try {
    const tool = join(files.path, "build-tool");
    writeFileSync(tool, "#!/bin/sh\necho building\n", { mode: 0o755 });
    const other = join(files.path, "other-tool");
    writeFileSync(other, "#!/bin/sh\necho other\n", { mode: 0o755 });
    const sha256 = createHash("sha256").update("#!/bin/sh\necho building\n").digest("hex");
    const agent = (...args: string[]) => run("jit-agent", [...args, "--state-dir", state.path]);
    const check = async (user: string, path: string, ...extra: string[]) => {
      const r = await agent("check", "--user", user, "--path", path, "--json", ...extra);
      return { code: r.code, json: JSON.parse(r.stdout) as CheckJson };
    };

    // A new admin: the console opens on "Create the owner account".
    await page.goto(server.url);
    await expect(page).toHaveURL(/\/setup$/);
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password", { exact: true }).fill(OWNER.password);
    await page.getByLabel("Confirm password").fill(OWNER.password);
    await page.getByRole("button", { name: "Create owner account" }).click();
    await expect(page.getByRole("link", { name: "Computers" })).toBeVisible();

    // Add computer: a one-time token and the exact command to paste.
    await page.getByRole("link", { name: "Computers" }).click();
    await page.getByRole("button", { name: "Add computer" }).click();
    const command = (await page.getByText(/^jit-agent enroll --server /).textContent())!.trim();
    const [program, ...args] = command.split(/\s+/);
    expect(program).toBe("jit-agent");
    expect(args).toContain(server.url);
    const enrolled = await run("jit-agent", [...args, "--name", "build-01", "--state-dir", state.path]);
    expect(enrolled.stderr).toBe("");
    expect(enrolled.code).toBe(0);
    expect(enrolled.stdout).toMatch(/Enrolled as build-01/);
    // The same command a second time is refused: the token works once.
    const again = await run("jit-agent", [...args, "--name", "build-02", "--state-dir", secondState.path]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already used/);

    daemon = spawnDaemon("jit-agent", ["run", "--state-dir", state.path]);
    await page.reload();
    await expect(page.getByRole("cell", { name: "build-01", exact: true })).toBeVisible();

    // Before any policy: denied.
    expect((await check("alice", tool)).code).toBe(3);

    // Policies → Create → Application Elevation, with the seed product's words.
    await page.getByRole("link", { name: "Policies" }).click();
    await page.getByRole("link", { name: /Create/ }).click();
    await page.getByLabel("Name", { exact: true }).fill("Build tools");
    await page.getByLabel("Description").fill("While the new toolchain rolls out");
    await page.getByLabel("Computer Name").fill("build-01");
    await page.getByLabel("User Name").fill("alice");
    await page.getByRole("radio", { name: "Fixed" }).check();
    await page.getByLabel("Duration").fill("2");
    await page.getByLabel("Unit").selectOption({ label: "hours" });
    await page.getByRole("radio", { name: "Specific applications" }).check();
    await page.getByLabel("Rule type").selectOption({ label: "File Hash" });
    // A wrong value is caught beside the field before anything is sent.
    await page.getByLabel("Value").fill("not-a-hash");
    await page.getByLabel("Deploy Immediately").check();
    await page.getByRole("button", { name: "Create policy" }).click();
    await expect(page.getByText(/expected a SHA-256 digest/)).toBeVisible();
    await page.getByLabel("Value").fill(sha256);
    const deployedAt = Date.now();
    await page.getByRole("button", { name: "Create policy" }).click();
    await expect(page).toHaveURL(/\/policies$/);
    await expect(page.getByRole("cell", { name: "Build tools" })).toBeVisible();

    // The daemon's long-poll brings the new bundle; the agent decides locally.
    const allowed = await eventually(async () => {
      const r = await check("alice", tool);
      return r.code === 0 ? r.json : null;
    }, 15_000);
    expect(allowed.allowed).toBe(true);
    expect(allowed.source).toMatchObject({ type: "policy", name: "Build tools" });
    const expires = Date.parse(allowed.expiresAt!);
    expect(expires).toBeGreaterThan(deployedAt + 2 * 3600_000 - 60_000);
    expect(expires).toBeLessThan(Date.now() + 2 * 3600_000 + 60_000);

    const bob = await check("bob", tool);
    expect(bob.code).toBe(3);
    expect(bob.json).toMatchObject({ allowed: false, source: null, expiresAt: null });
    const otherFile = await check("alice", other);
    expect(otherFile.code).toBe(3);
    expect(otherFile.json.allowed).toBe(false);

    // A Window policy for carol, applied as a file with jit-ctl, ends a few seconds from now.
    const ctlEnv = { XDG_CONFIG_HOME: ctlHome.path, JIT_PASSWORD: OWNER.password };
    const login = await run("jit-ctl", ["login", "--server", server.url, "--email", OWNER.email], ctlEnv);
    expect(login.code).toBe(0);
    const end = new Date(Date.now() + 8_000);
    const windowFile = join(files.path, "window.json");
    writeFileSync(
      windowFile,
      JSON.stringify({
        name: "Maintenance window",
        computers: ["build-01"],
        users: ["carol"],
        duration: { type: "window", start: new Date(Date.now() - 60_000).toISOString().replace("Z", "+00:00"), end: end.toISOString().replace("Z", "+00:00") },
        applications: [{ type: "folderPath", path: files.path }],
        deploy: true,
      }),
    );
    const applied = await run("jit-ctl", ["policy", "apply", "-f", windowFile], ctlEnv);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    const carol = await eventually(async () => {
      const r = await check("carol", other);
      return r.code === 0 ? r.json : null;
    }, 5_000);
    expect(carol.expiresAt).toBe(end.toISOString());

    // The server goes away (SIGTERM: a clean exit); the agent keeps deciding from its cache.
    await daemon.stop();
    daemon = null;
    expect(await server.stop()).toBe(0);
    expect((await check("alice", tool)).code).toBe(0);
    await new Promise((r) => setTimeout(r, Math.max(0, end.getTime() - Date.now() + 200)));
    const after = await check("carol", other, "--explain");
    expect(after.code).toBe(3);
    expect(after.json.evaluated).toContainEqual(expect.objectContaining({ policyName: "Maintenance window", outcome: "ended" }));
    expect((await check("alice", tool)).code).toBe(0);
  } finally {
    await daemon?.stop();
    await server.stop();
    state.remove();
    files.remove();
    ctlHome.remove();
    secondState.remove();
  }
});
