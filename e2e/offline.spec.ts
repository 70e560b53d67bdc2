// The offline-first console on a phone (Pixel 7 emulation, 360 px), with a real server, a real agent daemon and
// real `jit-agent request --wait` processes:
// 1. load the console, go offline, reload: it still opens (service worker) and shows the requests (local store);
//    approve one offline ("Waiting to sync"); back online it syncs without a reload, the server records the
//    approval and `check` allows within 2 s.
// 2. two admins decide the same request differently, one offline: the online decision stands, and the offline
//    admin sees the conflict notice after reconnecting.
// 3. a write refused on push (the admin became an auditor while offline) is shown, not lost.
// 4. an offline policy edit syncs and the policy is redeployed; sign-out wipes the local database.
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import { enrolledSite, eventually, PHONE, requestStatus, run, secondAdmin, signIn, spawnDaemon } from "./support";

test.use(PHONE);

const OWNER = { email: "owner@example.com", password: "a long owner passphrase" };
const DANA = { email: "dana@example.com", password: "dana's long passphrase" };

async function site() {
  const { server, state, files, ctlEnv, agent, remove } = await enrolledSite(OWNER);
  const daemon = spawnDaemon("jit-agent", ["run", "--state-dir", state.path]);
  const tool = join(files.path, "build-tool");
  writeFileSync(tool, "#!/bin/sh\necho building\n", { mode: 0o755 });
  return {
    server,
    tool,
    toolSha: createHash("sha256").update("#!/bin/sh\necho building\n").digest("hex"),
    agent,
    ctl: (...args: string[]) => run("jit-ctl", args, ctlEnv),
    check: async (user: string, path: string) => (await agent("check", "--user", user, "--path", path, "--json")).code,
    request: (user: string, path: string, duration: string, reason: string) =>
      agent("request", "--user", user, "--path", path, "--duration", duration, "--reason", reason, "--wait", "--json"),
    cleanup: async () => {
      await daemon.stop();
      await server.stop();
      remove();
    },
  };
}

const card = (page: Page, reason: string) => page.getByRole("article", { name: "alice on build-01" }).filter({ hasText: reason });

async function decide(page: Page, reason: string, kind: "Approve" | "Decline", text?: string) {
  await card(page, reason).getByRole("button", { name: kind }).click();
  const dialog = page.getByRole("dialog", { name: `${kind} request` });
  if (text) await dialog.getByLabel(kind === "Approve" ? "Note" : "Reason").fill(text);
  await dialog.getByRole("button", { name: kind }).click();
  await expect(dialog).toBeHidden();
}

test("offline on a phone: the console opens, an offline approval syncs and check allows within 2 s; conflicts and refusals are shown", async ({ page, context, browser }) => {
  const s = await site();
  let dana: { context: BrowserContext; page: Page } | null = null;
  try {
    await signIn(page, s.server.url, OWNER);
    await expect(page.getByText("No pending requests")).toBeVisible();

    // 1. A request arrives; the phone goes offline and reloads: the console opens and shows it.
    const first = s.request("alice", s.tool, "30m", "Hotfix from the train");
    await expect(card(page, "Hotfix from the train")).toBeVisible({ timeout: 5_000 });
    await context.setOffline(true);
    await page.reload();
    await expect(page.getByRole("heading", { name: "Requests", level: 1 })).toBeVisible();
    await expect(page.getByRole("button", { name: /^Sync: Offline/ })).toBeVisible();
    await expect(card(page, "Hotfix from the train")).toBeVisible();

    // Approve offline: kept on the phone, waiting to sync; the computer knows nothing yet.
    await decide(page, "Hotfix from the train", "Approve", "Approved from the train");
    await expect(card(page, "Hotfix from the train").getByText("Waiting to sync")).toBeVisible();
    await expect(page.getByRole("button", { name: "Sync: Offline · 1 waiting to sync" })).toBeVisible();
    expect(await s.check("alice", s.tool)).toBe(3);

    // Back online: it syncs without a reload; the server records the approval; the computer allows within 2 s.
    await context.setOffline(false);
    const onlineAt = Date.now();
    await eventually(async () => (await s.check("alice", s.tool)) === 0, 5_000, 50);
    expect(Date.now() - onlineAt, "allowed on the computer within 2 s of reconnecting").toBeLessThan(2_000);
    expect(requestStatus(await first)).toBe("approved");
    await expect(page.getByText("No pending requests")).toBeVisible();
    await expect(page.getByRole("button", { name: /^Sync: Synced/ })).toBeVisible();
    await page.getByRole("tab", { name: /Active/ }).click();
    await expect(card(page, "Hotfix from the train").getByText(/Approved by owner@example\.com at .*Approved from the train/)).toBeVisible();
    await page.getByRole("tab", { name: /Pending/ }).click();

    // 2. Two admins, one offline, decide the same request differently: the decision that reached the server first stands.
    dana = await secondAdmin(browser, page, s.server.url, DANA);
    const second = s.request("alice", s.tool, "15m", "Rotate the disks");
    await expect(card(page, "Rotate the disks")).toBeVisible({ timeout: 5_000 });
    await expect(card(dana.page, "Rotate the disks")).toBeVisible({ timeout: 5_000 });
    await context.setOffline(true);
    await decide(page, "Rotate the disks", "Approve");
    await expect(card(page, "Rotate the disks").getByText("Waiting to sync")).toBeVisible();
    await decide(dana.page, "Rotate the disks", "Decline", "Not during the audit");
    expect(requestStatus(await second)).toBe("declined");
    await context.setOffline(false);
    // The offline admin's approval is refused on push and shown, on the request and in the sync panel.
    await expect(page.getByText("No pending requests")).toBeVisible();
    await page.getByRole("tab", { name: /History/ }).click();
    const lost = card(page, "Rotate the disks");
    await expect(lost.getByText(/Declined by dana@example\.com at .*Not during the audit/)).toBeVisible();
    await expect(lost.getByRole("alert")).toContainText(/not accepted.*dana@example\.com/i);
    await page.getByRole("button", { name: /^Sync: .*not accepted/ }).click();
    await expect(page.getByRole("list", { name: "Changes not accepted" })).toContainText("Approve request");
    await page.getByRole("button", { name: /^Sync: / }).click();

    // 3. Dana approves offline; meanwhile her role is lowered to auditor: the server refuses the write on push,
    //    and she sees it (nothing is silently dropped); the request stays pending.
    const third = s.request("alice", s.tool, "10m", "Patch the kernel");
    await expect(card(dana.page, "Patch the kernel")).toBeVisible({ timeout: 5_000 });
    await dana.context.setOffline(true);
    await decide(dana.page, "Patch the kernel", "Approve");
    await expect(card(dana.page, "Patch the kernel").getByText("Waiting to sync")).toBeVisible();
    // The console has no role screen yet: the owner's change is made in the server's database.
    const db = new Database(join(s.server.dataDir, "jit.db"));
    db.prepare("UPDATE users SET role = 'auditor' WHERE email = ?").run(DANA.email);
    db.close();
    await dana.context.setOffline(false);
    await expect(card(dana.page, "Patch the kernel").getByRole("alert")).toContainText(/not accepted/i, { timeout: 10_000 });
    await dana.page.getByRole("button", { name: /^Sync: .*not accepted/ }).click();
    await expect(dana.page.getByRole("list", { name: "Changes not accepted" })).toContainText("Approve request");
    expect(await s.check("alice", s.tool)).toBe(0); // still the first grant, not this one
    await expect(card(page, "Patch the kernel").getByText("Pending", { exact: true })).toBeHidden(); // owner is on History
    await page.getByRole("tab", { name: /Pending/ }).click();
    await expect(card(page, "Patch the kernel").getByText("Pending", { exact: true })).toBeVisible();
    await decide(page, "Patch the kernel", "Decline", "Not needed");
    expect(requestStatus(await third)).toBe("declined");
  } finally {
    await dana?.context.close();
    await s.cleanup();
  }
});

test("an offline policy edit waits on the phone, syncs when the network returns and is redeployed", async ({ page, context }) => {
  const s = await site();
  try {
    await signIn(page, s.server.url, OWNER);
    const created = await page.request.post(`${s.server.url}/api/trpc/policies.create`, {
      data: { name: "Build tools", computers: ["build-01"], users: ["bob"], duration: { type: "fixed", length: "2h" }, applications: [{ type: "fileHash", sha256: s.toolSha }], deploy: true },
    });
    expect(created.ok(), await created.text()).toBe(true);
    const id = ((await created.json()) as { result: { data: { policy: { id: string } } } }).result.data.policy.id;
    await eventually(async () => (await s.check("bob", s.tool)) === 0, 10_000, 100);
    expect(await s.check("alice", s.tool)).toBe(3);

    // The edit form is open when the network goes; the change is kept on the phone.
    await page.goto(`${s.server.url}/policies/${id}/edit`);
    await expect(page.getByLabel("User Name")).toHaveValue("bob");
    await context.setOffline(true);
    await page.getByLabel("User Name").fill("alice");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page).toHaveURL(/\/policies$/);
    await expect(page.getByRole("heading", { name: "Policies", level: 1 })).toBeVisible();
    await expect(page.getByText("Waiting to sync", { exact: true })).toBeVisible();
    await expect(page.getByRole("button", { name: "Sync: Offline · 1 waiting to sync" })).toBeVisible();
    expect(await s.check("alice", s.tool)).toBe(3);

    // Online again: the server checks and applies the edit as a new revision and redeploys it; the computer follows.
    await context.setOffline(false);
    await eventually(async () => (await s.check("alice", s.tool)) === 0, 10_000, 100);
    expect(await s.check("bob", s.tool)).toBe(3);
    await expect(page.getByText("Waiting to sync", { exact: true })).toBeHidden();
    const got = await page.request.get(`${s.server.url}/api/trpc/policies.get?input=${encodeURIComponent(JSON.stringify({ id }))}`);
    const policy = ((await got.json()) as { result: { data: { revision: number; status: string; users: string[] } } }).result.data;
    expect(policy).toMatchObject({ revision: 2, status: "deployed", users: ["alice"] });
    await expect(page.getByRole("button", { name: /^Sync: Synced/ })).toBeVisible();

    // The sync panel is usable by keyboard and screen reader: no serious or critical axe finding.
    await page.getByRole("button", { name: /^Sync: Synced/ }).click();
    await expect(page.getByRole("region", { name: "Sync" })).toContainText("Nothing waiting to sync.");
    const axe = await new AxeBuilder({ page }).analyze();
    expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help}`)).toEqual([]);

    // Sign out wipes this person's local database.
    const stores = () => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? "").filter((n) => n.includes("jit-console-")));
    expect((await stores()).length).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect.poll(stores, { timeout: 5_000 }).toEqual([]);
  } finally {
    await s.cleanup();
  }
});
