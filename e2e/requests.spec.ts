// User-initiated elevation requests end to end, with a real server, a real agent daemon and real
// `jit-agent request --wait` processes; admins on phone-sized pages (Pixel 7 emulation at 360 px wide).
// 1. alice asks; the request shows without a reload within a second; Approve on the phone; the waiting
//    command returns approved and `check` allows within 2 s; Revoke denies within 2 s; the console shows when
//    the agent applied each change; a 1-minute grant ends on the computer by itself, the daemon stopped.
// 2. Settings: an Autonomous Approval rule approves a matching request with no admin action; Two-person
//    approval keeps a high-risk request pending after the first approval and grants it on the second.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test, type BrowserContext, type Locator, type Page } from "@playwright/test";
import { enrolledSite, eventually, PHONE, run, secondAdmin, signIn, spawnDaemon, type RunResult } from "./support";

// The phone (e2e/support.ts): Pixel 7's touch and user agent, 360 px wide.
test.use(PHONE);

const OWNER = { email: "owner@example.com", password: "a long owner passphrase" };
const DANA = { email: "dana@example.com", password: "dana's long passphrase" };

type CheckJson = { allowed: boolean; reason: string; source: { type: string; id: string; name: string } | null; expiresAt: string | null };
type RequestJson = { id: string; status: string; endsAt?: string | null };

/** A server with an owner, one enrolled computer (build-01) whose daemon long-polls, and two tools on disk. */
async function site() {
  const { server, state, files, agent, remove } = await enrolledSite(OWNER);
  let daemon: ReturnType<typeof spawnDaemon> | null = spawnDaemon("jit-agent", ["run", "--state-dir", state.path]);

  const tool = join(files.path, "build-tool");
  writeFileSync(tool, "#!/bin/sh\necho building\n", { mode: 0o755 });
  const risky = join(files.path, "disk-wipe");
  writeFileSync(risky, "#!/bin/sh\necho wiping\n", { mode: 0o755 });
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");

  return {
    server,
    tool,
    toolSha: sha("#!/bin/sh\necho building\n"),
    risky,
    riskySha: sha("#!/bin/sh\necho wiping\n"),
    agent,
    /** `jit-agent check --json`: allowed or not, from the agent's own cache. */
    check: async (user: string, path: string) => {
      const r = await agent("check", "--user", user, "--path", path, "--json");
      return { code: r.code, json: JSON.parse(r.stdout) as CheckJson };
    },
    /** `jit-agent request … --wait --json`, running: resolves when the command ends. */
    request: (user: string, path: string, duration: string, reason: string) =>
      agent("request", "--user", user, "--path", path, "--duration", duration, "--reason", reason, "--wait", "--json"),
    stopDaemon: async () => {
      await daemon?.stop();
      daemon = null;
    },
    cleanup: async () => {
      await daemon?.stop();
      await server.stop();
      remove();
    },
  };
}

/** The request the command printed (with --json, the last JSON object it wrote). */
function requestResult(r: RunResult): RequestJson {
  const lines = r.stdout.trim().split("\n").filter((l) => l.trim().startsWith("{"));
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`jit-agent request printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(last) as RequestJson;
}

/** The card of a request in the shown tab, found as a person would: by its heading. */
const card = (page: Page, heading = "alice on build-01") => page.getByRole("article", { name: heading });

/** Nothing sticks out sideways at 360 px: no horizontal scrolling. */
async function expectNoSidewaysScroll(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, "page fits the phone's width").toBeLessThanOrEqual(innerWidth);
}

/** Controls people touch are at least 44 px high (the phone's touch target). */
async function expectTouchSize(locator: Locator) {
  const box = await locator.boundingBox();
  expect(box, "control is on screen").not.toBeNull();
  expect(box!.height).toBeGreaterThanOrEqual(44);
}

test("alice asks; an admin on a phone sees it live and approves; check allows within 2 s; Revoke denies within 2 s; a 1-minute grant ends by itself", async ({ page }) => {
  test.setTimeout(180_000);
  const s = await site();
  try {
    await signIn(page, s.server.url, OWNER);
    await expect(page.getByRole("heading", { name: "Requests", level: 1 })).toBeVisible();
    await expect(page.getByRole("tab", { name: /Pending/, selected: true })).toBeVisible();
    await expect(page.getByText("No pending requests")).toBeVisible();
    await expect(page.getByText("Live", { exact: true })).toBeVisible();
    // Nothing may reload the page from here on: the request must arrive over the change stream.
    let navigations = 0;
    page.on("framenavigated", (frame) => frame === page.mainFrame() && navigations++);
    expect((await s.check("alice", s.tool)).code).toBe(3);

    // The page notes the moment the request's heading appears (a poll from here would add its own delay).
    await page.evaluate(() => {
      const w = window as unknown as { requestSeenAt?: number };
      new MutationObserver((_, observer) => {
        if (document.body.textContent?.includes("alice on build-01")) {
          w.requestSeenAt = Date.now();
          observer.disconnect();
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    const asked = s.request("alice", s.tool, "30m", "Release 4.2 needs the new toolchain");
    await card(page).waitFor({ state: "visible", timeout: 15_000 });
    const seenAt = await page.evaluate(() => (window as unknown as { requestSeenAt?: number }).requestSeenAt ?? Date.now());
    const pending = await page.request.get(`${s.server.url}/api/trpc/requests.list?input=${encodeURIComponent(JSON.stringify({ status: "pending" }))}`);
    const [submitted] = (await pending.json()).result.data.requests as { id: string; createdAt: string }[];
    expect(seenAt - Date.parse(submitted!.createdAt), "shown within a second of the submission").toBeLessThan(1_000);
    expect(navigations).toBe(0);

    // Pending shows who, where, which application, how long, why, and how long it has waited.
    const c = card(page);
    await expect(c.getByText(s.tool)).toBeVisible();
    await expect(c.getByText("30 minutes").first()).toBeVisible();
    await expect(c.getByText("Release 4.2 needs the new toolchain")).toBeVisible();
    await expect(c.getByText("Waiting")).toBeVisible();
    await expect(page.getByRole("tab", { name: /Pending/ })).toContainText("1");
    await expectTouchSize(c.getByRole("button", { name: "Approve" }));
    await expectTouchSize(c.getByRole("button", { name: "Decline" }));
    await expectTouchSize(page.getByRole("tab", { name: /Active/ }));
    await expectNoSidewaysScroll(page);

    // Approve on the phone, with a note.
    await c.getByRole("button", { name: "Approve" }).click();
    const dialog = page.getByRole("dialog", { name: "Approve request" });
    await expect(dialog.getByLabel("Duration")).toHaveValue("30m");
    await dialog.getByLabel("Note").fill("Go ahead for the release");
    const clickedAt = Date.now();
    await dialog.getByRole("button", { name: "Approve" }).click();
    const result = await asked;
    expect(result.code, result.stderr).toBe(0);
    expect(requestResult(result)).toMatchObject({ id: submitted!.id, status: "approved" });
    const allowed = await eventually(async () => {
      const r = await s.check("alice", s.tool);
      return r.code === 0 ? r.json : null;
    }, 3_000, 50);
    expect(Date.now() - clickedAt, "approved and allowed on the computer within 2 s of the click").toBeLessThan(2_000);
    expect(allowed.allowed).toBe(true);

    // Active: a live countdown, and when the computer applied the approval.
    await expect(dialog).toBeHidden();
    await page.getByRole("tab", { name: /Active/ }).click();
    await expect(c.getByText("Approved", { exact: true })).toBeVisible();
    const timer = c.getByRole("timer");
    const before = await timer.textContent();
    await expect(timer).not.toHaveText(before!, { timeout: 3_000 });
    await expect(c.getByText(/^applied on build-01 at \d{2}:\d{2}:\d{2}$/)).toBeVisible({ timeout: 5_000 });
    await expect(c.getByText(/Approved by owner@example\.com at \d{2}:\d{2}:\d{2} — “Go ahead for the release”/)).toBeVisible();

    // Revoke: the computer denies within 2 s.
    await expectTouchSize(c.getByRole("button", { name: "Revoke" }));
    await c.getByRole("button", { name: "Revoke" }).click();
    const revoke = page.getByRole("dialog", { name: "Revoke access" });
    await revoke.getByLabel("Reason").fill("Release done");
    const revokedAt = Date.now();
    await revoke.getByRole("button", { name: "Revoke" }).click();
    await eventually(async () => (await s.check("alice", s.tool)).code === 3, 3_000, 50);
    expect(Date.now() - revokedAt, "denied on the computer within 2 s of Revoke").toBeLessThan(2_000);
    await expect(page.getByText("No active access")).toBeVisible();
    await page.getByRole("tab", { name: /History/ }).click();
    await expect(c.getByText("Revoked", { exact: true })).toBeVisible();
    await expect(c.getByText(/Revoked by owner@example\.com at \d{2}:\d{2}:\d{2} — “Release done”/)).toBeVisible();
    await expect(c.getByText(/^applied on build-01 at \d{2}:\d{2}:\d{2}$/)).toBeVisible({ timeout: 5_000 });

    // A 1-minute grant ends by itself: the agent enforces the end time from its cache, with its daemon stopped.
    await page.getByRole("tab", { name: /Pending/ }).click();
    const shortAsk = s.request("alice", s.tool, "1m", "One quick fix to the build config");
    await c.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("dialog", { name: "Approve request" }).getByRole("button", { name: "Approve" }).click();
    const short = requestResult(await shortAsk);
    expect(short.status).toBe("approved");
    await eventually(async () => (await s.check("alice", s.tool)).code === 0, 3_000, 50);
    await page.getByRole("tab", { name: /Active/ }).click();
    await expect(c.getByText(/^applied on build-01 at /)).toBeVisible({ timeout: 5_000 });
    await s.stopDaemon();
    const check = await s.check("alice", s.tool);
    expect(check.json.allowed).toBe(true);
    const endsAt = Date.parse(check.json.expiresAt!);
    expect(endsAt).toBeGreaterThan(Date.now());
    expect(endsAt).toBeLessThanOrEqual(Date.now() + 60_000);
    await new Promise((r) => setTimeout(r, Math.max(0, endsAt - Date.now() + 100)));
    expect((await s.check("alice", s.tool)).code, "denied once the minute is over, with no server contact").toBe(3);
    // The console moves it to History as Expired; with the daemon stopped, it says the computer has not applied it.
    await expect(page.getByText("No active access")).toBeVisible();
    await page.getByRole("tab", { name: /History/ }).click();
    const expired = page.getByRole("article", { name: "alice on build-01" }).filter({ hasText: "One quick fix" });
    await expect(expired.getByText("Expired", { exact: true })).toBeVisible({ timeout: 5_000 });
    await expect(expired.getByText(/^not yet applied — computer last seen /)).toBeVisible({ timeout: 5_000 });
    expect(navigations).toBe(0);

    // The request's own page: every fact, and its Audit tab.
    await expired.getByRole("link", { name: "alice on build-01" }).click();
    await expect(page.getByRole("heading", { name: /alice on build-01/, level: 1 })).toBeVisible();
    await expect(page.getByRole("tab", { name: "Details", selected: true })).toBeVisible();
    await expect(page.getByText("One quick fix to the build config")).toBeVisible();
    await expect(page.getByText(short.id)).toBeVisible();
    await page.getByRole("tab", { name: "Audit" }).click();
    await expect(page.getByRole("list", { name: "Events, newest first" })).toBeVisible();
  } finally {
    await s.cleanup();
  }
});

test("Settings: Autonomous Approval approves a matching request at once; Two-person approval needs a second admin", async ({ page, browser }) => {
  test.setTimeout(120_000);
  const s = await site();
  let dana: { context: BrowserContext } | null = null;
  try {
    await signIn(page, s.server.url, OWNER);
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("link", { name: "Settings" }).click();
    await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();

    // Autonomous Approval: alice's build tool (by File Hash), any computer, up to 1 hour.
    await page.getByLabel("Autonomous Approval", { exact: true }).check();
    await page.getByRole("button", { name: "Add Autonomous Approval rule" }).click();
    const rule = page.getByRole("group", { name: /Autonomous Approval rule 1/ });
    // A problem shows beside its field, before anything is sent.
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect(rule.getByText("Give the rule a name.")).toBeVisible();
    await rule.getByLabel("Rule name").fill("alice's build tool");
    await rule.getByLabel("Trusted users").fill("alice");
    await rule.getByRole("radio", { name: /Low-risk applications/ }).check();
    await rule.getByLabel("Rule type").selectOption({ label: "File Hash" });
    await rule.getByLabel("Value").fill(s.toolSha);
    await expect(rule.getByLabel("All computers")).toBeChecked();
    await rule.getByLabel("Maximum duration", { exact: true }).fill("1");
    await rule.getByLabel("Maximum duration unit").selectOption({ label: "hours" });

    // Two-person approval: the disk wiper is high-risk.
    await page.getByLabel("Two-person approval", { exact: true }).check();
    await expect(page.getByLabel("Approvals required")).toHaveValue("2");
    const highRisk = page.getByRole("group", { name: "High-risk applications" });
    await highRisk.getByRole("button", { name: "Add high-risk application rule" }).click();
    await highRisk.getByLabel("Rule type").selectOption({ label: "File Hash" });
    await highRisk.getByLabel("Value").fill(s.riskySha);
    await expectNoSidewaysScroll(page);
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect(page.getByText("Settings saved.")).toBeVisible();
    // Saved for real: a reload shows the same.
    await page.reload();
    await expect(page.getByRole("group", { name: /Autonomous Approval rule 1: alice's build tool/ }).getByLabel("Trusted users")).toHaveValue("alice");
    await expect(page.getByLabel("Two-person approval", { exact: true })).toBeChecked();

    // A matching request is approved at once, by the rule, with no admin action.
    const auto = await s.request("alice", s.tool, "30m", "Nightly build needs the toolchain");
    expect(auto.code, auto.stderr).toBe(0);
    expect(requestResult(auto).status).toBe("approved");
    expect((await s.check("alice", s.tool)).code).toBe(0);
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("link", { name: "Requests" }).click();
    await page.getByRole("tab", { name: /Active/ }).click();
    await expect(card(page).getByText("Approved by Autonomous Approval rule “alice's build tool”", { exact: false })).toBeVisible();

    // A high-risk request: the first approval leaves it pending; the second admin's grants it.
    await page.getByRole("tab", { name: /Pending/ }).click();
    const risky = s.request("alice", s.risky, "30m", "Wipe the scratch disk before reimaging");
    const c = card(page);
    await expect(c.getByText("0 of 2")).toBeVisible({ timeout: 5_000 });
    await c.getByRole("button", { name: "Approve" }).click();
    const first = page.getByRole("dialog", { name: "Approve request" });
    await expect(first.getByText(/approval 1 of 2/)).toBeVisible();
    await first.getByRole("button", { name: "Approve" }).click();
    await expect(first).toBeHidden();
    await expect(c.getByText("1 of 2")).toBeVisible();
    await expect(c.getByText(/Approved by owner@example\.com at/)).toBeVisible();
    await expect(c.getByText("Pending", { exact: true })).toBeVisible();
    expect((await s.check("alice", s.risky)).code).toBe(3);

    const second = await secondAdmin(browser, page, s.server.url, DANA);
    dana = second;
    const dc = card(second.page);
    await expect(dc.getByText("1 of 2")).toBeVisible();
    await dc.getByRole("button", { name: "Approve" }).click();
    const last = second.page.getByRole("dialog", { name: "Approve request" });
    await expect(last.getByText(/last approval needed/)).toBeVisible();
    const clickedAt = Date.now();
    await last.getByRole("button", { name: "Approve" }).click();
    const granted = await risky;
    expect(requestResult(granted).status).toBe("approved");
    await eventually(async () => (await s.check("alice", s.risky)).code === 0, 3_000, 50);
    expect(Date.now() - clickedAt).toBeLessThan(2_000);
    // The first admin's page moves it out of Pending by itself, and Active shows both approvers.
    await expect(page.getByText("No pending requests")).toBeVisible();
    await page.getByRole("tab", { name: /Active/ }).click();
    const both = page.getByRole("article", { name: "alice on build-01" }).filter({ hasText: "Wipe the scratch disk" });
    await expect(both.getByText("2 of 2")).toBeVisible();
    await expect(both.getByRole("listitem").filter({ hasText: /Approved by owner@example\.com at/ })).toBeVisible();
    await expect(both.getByRole("listitem").filter({ hasText: /Approved by dana@example\.com at/ })).toBeVisible();

    // One decline ends a two-person request, and whoever comes second is told who was first.
    await page.getByRole("tab", { name: /Pending/ }).click();
    const again = s.request("alice", s.risky, "15m", "Wipe the second scratch disk too");
    await c.getByRole("button", { name: "Approve" }).click();
    const late = page.getByRole("dialog", { name: "Approve request" });
    await expect(late).toBeVisible();
    await dc.getByRole("button", { name: "Decline" }).click();
    const decline = second.page.getByRole("dialog", { name: "Decline request" });
    await decline.getByRole("button", { name: "Decline" }).click();
    await expect(decline.getByText("Enter a reason: the user sees it on their computer.")).toBeVisible();
    await decline.getByLabel("Reason").fill("Not this week: the disks are in use");
    await decline.getByRole("button", { name: "Decline" }).click();
    const declined = await again;
    expect(declined.code).toBe(3);
    expect(requestResult(declined)).toMatchObject({ status: "declined" });
    await late.getByRole("button", { name: "Approve" }).click();
    await expect(late.getByRole("alert")).toContainText(/Already declined by dana@example\.com/);
    await late.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByText("No pending requests")).toBeVisible();
    await page.getByRole("tab", { name: /History/ }).click();
    await expect(page.getByRole("article", { name: "alice on build-01" }).filter({ hasText: "second scratch disk" }).getByText(/Declined by dana@example\.com at .*Not this week/)).toBeVisible();
  } finally {
    await dana?.context.close();
    await s.cleanup();
  }
});
