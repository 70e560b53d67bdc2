// The console as a PWA: the Workbox service worker (scripts/build-sw.mjs) installs and controls the page, the
// console opens offline and moves between its pages, the manifest and icons load, Chromium finds it installable,
// a new build is announced instead of swapped in, and axe finds no serious or critical violation on the main
// screens at 360 px and on a desktop. Runs against the production build in NEXT_DIST_DIR (default .next).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ROOT, run, startServer, tempDir, type ServerProcess } from "./support";

const OWNER = { email: "owner@example.com", password: "a long owner passphrase" };
const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };
const SW_FILE = join(ROOT, process.env.NEXT_DIST_DIR || ".next", "sw.js");
const CONSOLE_PAGES = ["/requests", "/policies", "/policies/new", "/computers", "/allowlist", "/events", "/settings", "/settings/notifications"];

test.use({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

async function createOwner(page: Page, server: ServerProcess) {
  await page.goto(server.url);
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel("Email").fill(OWNER.email);
  await page.getByLabel("Password", { exact: true }).fill(OWNER.password);
  await page.getByLabel("Confirm password").fill(OWNER.password);
  await page.getByRole("button", { name: "Create owner account" }).click();
  await expect(page).toHaveURL(/\/requests$/);
}

/** Waits until a service worker controls the page (the first install claims it: no reload needed). */
async function waitForControl(page: Page) {
  await page.waitForFunction(() => !!navigator.serviceWorker?.controller, null, { timeout: 30_000 });
  return page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);
}

function pngSize(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  expect(buf.subarray(12, 16).toString("ascii")).toBe("IHDR");
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

test("the service worker installs, the console opens offline, and Chromium finds it installable", async ({ playwright }) => {
  const server = await startServer();
  // A persistent profile: Chromium never offers to install from an incognito one (Playwright's usual context).
  const profile = tempDir("profile");
  const { launchOptions } = test.info().project.use;
  const context = await playwright.chromium.launchPersistentContext(profile.path, {
    ...launchOptions,
    viewport: PHONE,
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    await createOwner(page, server);
    expect(await waitForControl(page)).toBe(`${server.url}/sw.js`);

    // The worker is served fresh and never from the API's paths.
    const sw = await page.request.get(`${server.url}/sw.js`);
    expect(sw.status()).toBe(200);
    expect(sw.headers()["content-type"]).toMatch(/javascript/);
    expect(sw.headers()["cache-control"]).toBe("no-cache");

    // The manifest: linked from the page, parses, and says what an installed app needs.
    const href = await page.locator('link[rel="manifest"]').getAttribute("href");
    expect(href).toBe("/manifest.webmanifest");
    const manifest = (await (await page.request.get(`${server.url}${href}`)).json()) as {
      name: string; short_name: string; start_url: string; scope: string; display: string; theme_color: string; background_color: string;
      icons: { src: string; sizes: string; type: string; purpose?: string }[];
    };
    expect(manifest).toMatchObject({ name: "JIT Access", start_url: "/requests", scope: "/", display: "standalone", theme_color: "#4f46e5" });
    expect(manifest.short_name).toBeTruthy();
    expect(manifest.background_color).toBeTruthy();
    for (const icon of manifest.icons) {
      const res = await page.request.get(`${server.url}${icon.src}`);
      expect(res.status(), icon.src).toBe(200);
      expect(res.headers()["content-type"]).toBe("image/png");
      const { width, height } = pngSize(await res.body());
      expect(`${width}x${height}`).toBe(icon.sizes);
    }
    expect(manifest.icons.map((i) => `${i.sizes}/${i.purpose ?? "any"}`).sort()).toEqual(["192x192/any", "512x512/any", "512x512/maskable"]);
    await expect(page.locator('meta[name="theme-color"]')).toHaveAttribute("content", "#4f46e5");
    const appleIcon = await page.locator('link[rel="apple-touch-icon"]').getAttribute("href");
    expect(pngSize(await (await page.request.get(`${server.url}${appleIcon}`)).body())).toEqual({ width: 180, height: 180 });

    // Chromium: the manifest parses without errors and nothing stops installation.
    const cdp = await context.newCDPSession(page);
    const appManifest = (await cdp.send("Page.getAppManifest")) as { errors: unknown[]; url: string };
    expect(appManifest.errors).toEqual([]);
    expect(appManifest.url).toBe(`${server.url}/manifest.webmanifest`);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    expect(installabilityErrors).toEqual([]);

    // Offline: a reload and every console page come from the worker's cache, and the console opens.
    await context.setOffline(true);
    const reloaded = await page.reload();
    expect(reloaded?.fromServiceWorker()).toBe(true);
    expect(reloaded?.status()).toBe(200);
    await expect(page).toHaveTitle(/JIT Access/);
    await expect(page.locator("main#main")).toBeVisible();
    // The console's own navigation (the App Router's fetch fails offline; it falls back to a page load that
    // the worker answers).
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("link", { name: "Policies" }).click();
    await expect(page).toHaveURL(/\/policies$/);
    await expect(page.getByRole("heading", { name: "Policies", level: 1 })).toBeVisible();
    for (const path of CONSOLE_PAGES) {
      const res = await page.goto(`${server.url}${path}`);
      expect(res?.fromServiceWorker(), path).toBe(true);
      expect(res?.status(), path).toBe(200);
      expect(new URL(page.url()).pathname).toBe(path);
      await expect(page.locator("main#main"), path).toBeVisible();
    }
    // A query string (e.g. a filter) still opens the stored page.
    expect((await page.goto(`${server.url}/requests?status=pending`))?.status()).toBe(200);
    await expect(page.locator("main#main")).toBeVisible();
    // A detail page opens its stored twin (/policies/view?id=…), which says when this device has no copy of it.
    await page.goto(`${server.url}/policies/00000000-0000-4000-8000-000000000000`);
    expect(page.url()).toBe(`${server.url}/policies/view?id=00000000-0000-4000-8000-000000000000`);
    await expect(page.getByText(/This device has no copy of it/)).toBeVisible();
    // A page the worker has not stored says it needs the network, and leads back to the stored pages.
    const unknown = await page.goto(`${server.url}/no-such-page`);
    expect(unknown?.fromServiceWorker()).toBe(true);
    await expect(page.getByRole("heading", { name: "This page needs the network" })).toBeVisible();
    await page.getByRole("link", { name: "Requests" }).click();
    await expect(page).toHaveURL(/\/requests$/);
    await expect(page.locator("main#main")).toBeVisible();
    // The API is never answered from a cache: offline it fails.
    const api = await page.evaluate(async () => {
      try {
        return (await fetch("/api/trpc/auth.status")).status;
      } catch {
        return "network error";
      }
    });
    expect(api).toBe("network error");

    // Back online, the pages still come from the worker, and the API from the server.
    await context.setOffline(false);
    const online = await page.goto(`${server.url}/policies`);
    expect(online?.fromServiceWorker()).toBe(true);
    expect((await page.request.get(`${server.url}/api/trpc/auth.status`)).status()).toBe(200);
  } finally {
    await context.close();
    profile.remove();
    await server.stop();
  }
});

test("a new build is announced, and taken only when the admin reloads", async ({ page }) => {
  const server = await startServer();
  const original = readFileSync(SW_FILE);
  try {
    await createOwner(page, server);
    const first = await waitForControl(page);
    await expect(page.getByText(/Update available/)).toHaveCount(0);

    // A new build: the server now serves a different worker script (a new revision). The page checks for it.
    writeFileSync(SW_FILE, Buffer.concat([original, Buffer.from(`\n// a new build ${Date.now()}\n`)]));
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
    // Announced in a live region (role=status) that is always on the page.
    const banner = page.getByRole("status").filter({ hasText: "Update available — reload" });
    await expect(banner.getByText("Update available — reload")).toBeVisible({ timeout: 30_000 });
    // The old worker still controls the page: nothing was swapped under the admin's feet.
    const before = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);
    expect(before).toBe(first);
    expect(await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())!.waiting)).toBe(true);

    // "Reload": the waiting worker takes over and the page reloads once, without the banner.
    await page.evaluate(() => ((window as unknown as { __beforeReload: boolean }).__beforeReload = true));
    await banner.getByRole("button", { name: "Reload" }).click();
    await page.waitForFunction(() => !(window as unknown as { __beforeReload?: boolean }).__beforeReload, null, { timeout: 30_000 });
    await waitForControl(page);
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.waiting)).toBeNull();
    await expect(page.getByText(/Update available/)).toHaveCount(0);
  } finally {
    writeFileSync(SW_FILE, original);
    await server.stop();
  }
});

type AxeViolation = { id: string; impact?: string | null; help: string; nodes: { target: unknown; failureSummary?: string }[] };

async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]).analyze();
  expect(result.passes.length).toBeGreaterThan(10);
  return (result.violations as AxeViolation[])
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
}

/** Buttons, fields and navigation links at least 44 px high (and wide), where they are visible. */
async function smallTouchTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const small: string[] = [];
    const els = document.querySelectorAll<HTMLElement>('button, input:not([type="checkbox"]):not([type="radio"]):not([type="hidden"]), select, textarea, nav a, a[role="button"]');
    for (const el of els) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === "hidden" || el.closest(".sr-only")) continue;
      if (r.height < 43.5 || r.width < 43.5) small.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute("aria-label") || el.id).trim().slice(0, 40)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    return small;
  });
}

async function settle(page: Page) {
  await expect(page.locator("main#main")).toBeVisible();
  await expect(page.getByText(/Loading|Checking your session/)).toHaveCount(0, { timeout: 15_000 });
}

for (const [name, size] of [["360 px", PHONE], ["desktop", DESKTOP]] as const) {
  test(`axe: no serious or critical violation on the main screens (${name})`, async ({ page }) => {
    await page.setViewportSize(size);
    const server = await startServer();
    const found: string[] = [];
    const check = async (label: string) => {
      await settle(page);
      for (const v of await seriousViolations(page)) found.push(`${label}: ${v}`);
      for (const t of await smallTouchTargets(page)) found.push(`${label}: touch target ${t}`);
    };
    try {
      await page.goto(server.url);
      await expect(page).toHaveURL(/\/setup$/);
      await check("setup");
      await page.getByLabel("Email").fill(OWNER.email);
      await page.getByLabel("Password", { exact: true }).fill(OWNER.password);
      await page.getByLabel("Confirm password").fill(OWNER.password);
      await page.getByRole("button", { name: "Create owner account" }).click();
      await expect(page).toHaveURL(/\/requests$/);

      // Something on every screen: a computer, a deployed policy, an allowlist entry, a pending request.
      const files = tempDir("axe");
      try {
        const ctlEnv = { XDG_CONFIG_HOME: files.path, JIT_PASSWORD: OWNER.password };
        expect((await run("jit-ctl", ["login", "--server", server.url, "--email", OWNER.email], ctlEnv)).code).toBe(0);
        const token = JSON.parse((await run("jit-ctl", ["enroll-token", "create", "--json"], ctlEnv)).stdout) as { token: string };
        const state = join(files.path, "agent");
        expect((await run("jit-agent", ["enroll", "--server", server.url, "--token", token.token, "--name", "build-01", "--state-dir", state])).code).toBe(0);
        const body = "#!/bin/sh\necho building\n";
        const tool = join(files.path, "build-tool");
        writeFileSync(tool, body, { mode: 0o755 });
        const sha256 = createHash("sha256").update(body).digest("hex");
        const policy = join(files.path, "policy.json");
        writeFileSync(policy, JSON.stringify({ name: "Build tools", computers: ["build-01"], users: ["alice"], duration: { type: "fixed", length: "2h" }, applications: [{ type: "fileHash", sha256 }], deploy: true }));
        expect((await run("jit-ctl", ["policy", "apply", "-f", policy], ctlEnv)).code).toBe(0);
        const allow = join(files.path, "allowlist.json");
        writeFileSync(allow, JSON.stringify({ entries: [{ name: "Hashed tool", rule: { type: "fileHash", sha256 } }] }));
        expect((await run("jit-ctl", ["allowlist", "apply", "-f", allow], ctlEnv)).code).toBe(0);
        const asked = await run("jit-agent", ["request", "--user", "bob", "--path", tool, "--duration", "30m", "--reason", "Release build", "--state-dir", state]);
        expect(asked.code, asked.stderr).toBe(0);
      } finally {
        files.remove();
      }

      // Keyboard: on a fresh page the first Tab reaches the skip link, which leads to the main content.
      await page.goto(`${server.url}/requests`);
      await settle(page);
      await page.keyboard.press("Tab");
      const skip = page.getByRole("link", { name: "Skip to main content" });
      await expect(skip).toBeFocused();
      await expect(skip).toBeInViewport();

      for (const path of CONSOLE_PAGES) {
        await page.goto(`${server.url}${path}`);
        await check(path);
      }
      // An open dialog: Add computer.
      await page.goto(`${server.url}/computers`);
      await settle(page);
      await page.getByRole("button", { name: "Add computer" }).click();
      await expect(page.getByText(/^jit-agent enroll --server /)).toBeVisible();
      await check("/computers (add computer)");

      // Sign-in, in a fresh context (no session).
      const other = await page.context().browser()!.newContext({ viewport: size });
      const login = await other.newPage();
      await login.goto(`${server.url}/login`);
      await expect(login.getByLabel("Email")).toBeVisible();
      for (const v of await seriousViolations(login)) found.push(`login: ${v}`);
      for (const t of await smallTouchTargets(login)) found.push(`login: touch target ${t}`);
      await other.close();

      expect(found).toEqual([]);
    } finally {
      await server.stop();
    }
  });
}
