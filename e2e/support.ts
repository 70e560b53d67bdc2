// e2e support: the real server and real jit-agent / jit-ctl processes, each on its own temp folders.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { devices, expect, type Browser, type BrowserContext, type Page } from "@playwright/test";

export const ROOT = resolve(import.meta.dirname, "..");
const BIN = (name: string) => join(ROOT, "bin", `${name}.mjs`);

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `jit-e2e-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export type ServerProcess = { url: string; dataDir: string; stop: () => Promise<number | null>; logs: () => string };

/** Starts `jit-server start` (production build) on a free port and a fresh SQLite data directory. */
export async function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const data = tempDir("data");
  const port = await freePort();
  const proc = spawn(process.execPath, [BIN("jit-server"), "start"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: data.path, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes("JIT Access is running")) {
        clearTimeout(timer);
        res();
      }
    };
    proc.stdout!.on("data", check);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise<number | null>((res) => proc.once("exit", (code) => res(code)));
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir: data.path,
    logs: () => out,
    stop: async () => {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      const code = await exited;
      data.remove();
      return code;
    },
  };
}

export type RunResult = { code: number | null; stdout: string; stderr: string };

export function run(program: "jit-agent" | "jit-ctl", args: string[], env: Record<string, string> = {}, input?: string): Promise<RunResult> {
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, [BIN(program), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    proc.once("error", rej);
    proc.once("exit", (code) => res({ code, stdout, stderr }));
    proc.stdin.end(input ?? "");
  });
}

/** A long-running process (the agent daemon); stopped with SIGTERM. */
export function spawnDaemon(program: "jit-agent", args: string[], env: Record<string, string> = {}): { proc: ChildProcess; stop: () => Promise<number | null>; logs: () => string } {
  const proc = spawn(process.execPath, [BIN(program), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once("exit", (code) => res(code)));
  return {
    proc,
    logs: () => out,
    stop: async () => {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function eventually<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A server whose owner is `owner` (made at start), signed in with jit-ctl, and one computer, build-01, enrolled with
 * a fresh token into its own state folder. `remove` deletes the folders (stop the server and any daemon first).
 */
export async function enrolledSite(owner: { email: string; password: string }) {
  const server = await startServer({ ADMIN_EMAIL: owner.email, ADMIN_PASSWORD: owner.password });
  const state = tempDir("agent");
  const files = tempDir("files");
  const ctlHome = tempDir("ctl");
  const ctlEnv = { XDG_CONFIG_HOME: ctlHome.path, JIT_PASSWORD: owner.password };
  const login = await run("jit-ctl", ["login", "--server", server.url, "--email", owner.email], ctlEnv);
  if (login.code !== 0) throw new Error(`jit-ctl login failed: ${login.stderr}`);
  const token = JSON.parse((await run("jit-ctl", ["enroll-token", "create", "--json"], ctlEnv)).stdout) as { token: string };
  const enrolled = await run("jit-agent", ["enroll", "--server", server.url, "--token", token.token, "--name", "build-01", "--state-dir", state.path]);
  if (enrolled.code !== 0) throw new Error(`jit-agent enroll failed: ${enrolled.stderr}`);
  return {
    server,
    state,
    files,
    ctlEnv,
    /** jit-agent with this computer's state folder. */
    agent: (...args: string[]) => run("jit-agent", [...args, "--state-dir", state.path]),
    remove: () => {
      state.remove();
      files.remove();
      ctlHome.remove();
    },
  };
}

/** The status in the last JSON line `jit-agent request --json` printed. */
export function requestStatus(r: RunResult): string {
  const last = r.stdout.trim().split("\n").filter((l) => l.trim().startsWith("{")).at(-1);
  if (!last) throw new Error(`jit-agent request printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return (JSON.parse(last) as { status: string }).status;
}

// ── The console in a browser ─────────────────────────────────────────────────────────────────────────────

/** The phone the console e2e tests use: Pixel 7's touch and user agent, 360 px wide (the narrowest we support). The
 * browser itself stays the configured Debian chromium (devices only set the context, never launchOptions). */
const { defaultBrowserType: _browserType, ...pixel7 } = devices["Pixel 7"];
export const PHONE = { ...pixel7, viewport: { width: 360, height: 800 } };

/**
 * The console has settled after a sign-in: its first sync is done and its service worker installed (the console
 * starts that install once the first sync is done), so nothing of a first visit competes with what a test times next.
 */
export async function settled(page: Page): Promise<void> {
  await expect(page.getByRole("button", { name: /^Sync: Synced/ }).first()).toBeVisible({ timeout: 15_000 });
  await page.evaluate(async () => void (await navigator.serviceWorker.ready));
}

/** Signs in on the console's sign-in page and waits until the console has settled on Requests. */
export async function signIn(page: Page, url: string, who: { email: string; password: string }): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: /Sign in/ }).click();
  await expect(page).toHaveURL(/\/requests$/);
  await settled(page);
}

/** A second admin (created by the one signed in on `page`) in their own browser context and session, on a phone too. */
export async function secondAdmin(browser: Browser, page: Page, url: string, who: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
  const created = await page.request.post(`${url}/api/trpc/users.create`, { data: { ...who, role: "admin" } });
  expect(created.ok(), await created.text()).toBe(true);
  const context = await browser.newContext(PHONE);
  const other = await context.newPage();
  await signIn(other, url, who);
  return { context, page: other };
}

