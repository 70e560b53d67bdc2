// Real elevation on Linux end to end (as root, with Debian sudo): a throwaway user runs `jit run -- /usr/bin/id -u`,
// which asks for elevation; an admin approves in the console; the command then runs through sudo and prints 0.
// Revoke in the console, and the next `jit run` is refused within 2 s. The user, the drop-in (a unique name) and
// the daemon are always removed.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { othersCanReach } from "../agent/enforce/others-can-reach";
import { eventually, ROOT, run, spawnDaemon, startServer, tempDir, type RunResult } from "./support";

const OWNER = { email: "owner@example.com", password: "a long owner passphrase" };
// The throwaway user runs node and this checkout, so every folder above them must let others through.
const ready =
  process.getuid?.() === 0 && existsSync("/usr/bin/sudo") && existsSync("/usr/sbin/visudo") && othersCanReach(join(ROOT, "bin", "jit.mjs")) && othersCanReach(process.execPath);

function asUser(user: string, args: string[]): Promise<RunResult> {
  return new Promise((res, rej) => {
    const p = spawn("runuser", ["-u", user, "--", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.once("error", rej);
    p.once("exit", (code) => res({ code, stdout, stderr }));
  });
}

async function signIn(page: Page, url: string) {
  await page.goto(`${url}/login`);
  await page.getByLabel("Email").fill(OWNER.email);
  await page.getByLabel("Password").fill(OWNER.password);
  await page.getByRole("button", { name: /Sign in/ }).click();
  await expect(page).toHaveURL(/\/requests$/);
}

test("jit run asks, an admin approves in the console, id -u prints 0 through sudo; Revoke refuses the next run within 2 s", async ({ page }) => {
  test.skip(!ready, "needs root, Debian sudo (CI installs it in .ci/run) and a checkout that other users can reach");
  test.setTimeout(180_000);
  const user = `jite${randomBytes(4).toString("hex")}`;
  const dropIn = `jit-e2e-${randomBytes(4).toString("hex")}`;
  const server = await startServer({ ADMIN_EMAIL: OWNER.email, ADMIN_PASSWORD: OWNER.password });
  const state = tempDir("agent");
  const ctlHome = tempDir("ctl");
  const runDir = tempDir("run");
  chmodSync(runDir.path, 0o755);
  const sock = join(runDir.path, "agent.sock");
  let daemon: ReturnType<typeof spawnDaemon> | null = null;
  execFileSync("useradd", ["-M", "-s", "/bin/sh", user]);
  try {
    const ctlEnv = { XDG_CONFIG_HOME: ctlHome.path, JIT_PASSWORD: OWNER.password };
    expect((await run("jit-ctl", ["login", "--server", server.url, "--email", OWNER.email], ctlEnv)).code).toBe(0);
    const token = JSON.parse((await run("jit-ctl", ["enroll-token", "create", "--json"], ctlEnv)).stdout) as { token: string };
    expect((await run("jit-agent", ["enroll", "--server", server.url, "--token", token.token, "--name", "linux-01", "--state-dir", state.path])).code).toBe(0);
    const set = await run("jit-agent", ["enforce", "sudo", "--drop-in", dropIn, "--socket", sock, "--state-dir", state.path]);
    expect(set.code, set.stderr).toBe(0);
    daemon = spawnDaemon("jit-agent", ["run", "--state-dir", state.path]);
    await eventually(async () => existsSync(sock), 15_000);

    await signIn(page, server.url);
    // The user asks through `jit run` itself; it waits for the decision, then runs the command.
    const jitRun = (...extra: string[]) => asUser(user, [process.execPath, join(ROOT, "bin", "jit.mjs"), "run", "--socket", sock, ...extra, "--", "/usr/bin/id", "-u"]);
    const asked = jitRun("--duration", "30m", "--reason", "Checking the build host's users");
    const card = page.getByRole("article", { name: `${user} on linux-01` });
    await card.waitFor({ state: "visible", timeout: 20_000 });
    await card.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("dialog", { name: "Approve request" }).getByRole("button", { name: "Approve" }).click();
    const result = await asked;
    expect(result.stdout.trim(), `${result.stderr}\n${daemon.logs()}`).toBe("0");
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("approved");

    // Revoke: the next run is refused within 2 s (sudo has no right left, and the agent says no).
    await page.getByRole("tab", { name: /Active/ }).click();
    await card.getByRole("button", { name: "Revoke" }).click();
    const revoke = page.getByRole("dialog", { name: "Revoke access" });
    await revoke.getByLabel("Reason").fill("Done");
    const revokedAt = Date.now();
    await revoke.getByRole("button", { name: "Revoke" }).click();
    await eventually(async () => (await jitRun("--no-request")).code === 3, 5_000, 50);
    expect(Date.now() - revokedAt, "refused within 2 s of Revoke").toBeLessThan(2_000);
    const sudoDirect = await asUser(user, ["sudo", "-n", "-u", "root", "/usr/bin/id", "-u"]);
    expect(sudoDirect.code).not.toBe(0);
  } finally {
    await daemon?.stop();
    rmSync(`/etc/sudoers.d/${dropIn}`, { force: true });
    spawnSync("userdel", ["-f", user], { stdio: "ignore" });
    await server.stop();
    state.remove();
    ctlHome.remove();
    runDir.remove();
  }
});
