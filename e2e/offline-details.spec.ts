// The detail pages offline, on a phone (Pixel 7 emulation, 360 px), with a real server, a real agent daemon and a real
// `jit-agent request --wait`: after the console has synced once, a request, a policy and a computer open offline from
// the local store, by URL (/requests/<id>, which the service worker sends to the precached /requests/view?id=<id>) and
// by a click in the list, and so does a policy's Edit form; an approval and a Disable made offline on the detail pages wait to sync and reach the
// server when the network returns. The Audit tab says it needs the network.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { devices, expect, test, type Page } from "@playwright/test";
import { enrolledSite, eventually, requestStatus, spawnDaemon } from "./support";

const { defaultBrowserType: _browserType, ...pixel7 } = devices["Pixel 7"];
test.use({ ...pixel7, viewport: { width: 360, height: 800 } });

const OWNER = { email: "owner@example.com", password: "a long owner passphrase" };

async function site() {
  const { server, state, files, agent, remove } = await enrolledSite(OWNER);
  const daemon = spawnDaemon("jit-agent", ["run", "--state-dir", state.path]);
  const body = "#!/bin/sh\necho building\n";
  const tool = join(files.path, "build-tool");
  writeFileSync(tool, body, { mode: 0o755 });
  return {
    server,
    tool,
    toolSha: createHash("sha256").update(body).digest("hex"),
    check: async (user: string) => (await agent("check", "--user", user, "--path", tool, "--json")).code,
    request: (user: string, duration: string, reason: string) =>
      agent("request", "--user", user, "--path", tool, "--duration", duration, "--reason", reason, "--wait", "--json"),
    cleanup: async () => {
      await daemon.stop();
      await server.stop();
      remove();
    },
  };
}


async function trpcGet<T>(page: Page, url: string, path: string, input?: unknown): Promise<T> {
  const res = await page.request.get(`${url}/api/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`);
  expect(res.ok(), await res.text()).toBe(true);
  return ((await res.json()) as { result: { data: T } }).result.data;
}

test("offline, a request, a policy and a computer open from the local store; decisions on them sync when the network returns", async ({ page, context }) => {
  test.setTimeout(90_000);
  const s = await site();
  try {
    const url = s.server.url;
    await page.goto(`${url}/login`);
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password").fill(OWNER.password);
    await page.getByRole("button", { name: /Sign in/ }).click();
    await expect(page).toHaveURL(/\/requests$/);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });

    // Online: a deployed policy, an enrolled computer and a pending request reach the phone's store.
    const created = await page.request.post(`${url}/api/trpc/policies.create`, {
      data: { name: "Build tools", computers: ["build-01"], users: ["bob"], duration: { type: "fixed", length: "2h" }, applications: [{ type: "fileHash", sha256: s.toolSha }], deploy: true },
    });
    expect(created.ok(), await created.text()).toBe(true);
    const policyId = ((await created.json()) as { result: { data: { policy: { id: string } } } }).result.data.policy.id;
    const { computers } = await trpcGet<{ computers: { id: string; name: string }[] }>(page, url, "computers.list");
    const computerId = computers.find((c) => c.name === "build-01")!.id;
    const pending = s.request("alice", "30m", "Patch from the ferry");
    const card = page.getByRole("article", { name: "alice on build-01" }).filter({ hasText: "Patch from the ferry" });
    await expect(card).toBeVisible({ timeout: 5_000 });
    const requestId = (await card.getByRole("link", { name: "alice on build-01" }).getAttribute("href"))!.split("/").at(-1)!;
    await expect(page.getByRole("button", { name: /^Sync: Synced/ })).toBeVisible();

    // Offline: the request's own URL opens its precached twin, filled from the local store.
    await context.setOffline(true);
    await page.goto(`${url}/requests/${requestId}`);
    await expect(page).toHaveURL(`${url}/requests/view?id=${requestId}`);
    await expect(page.getByRole("heading", { name: /alice on build-01/, level: 1 })).toBeVisible();
    await expect(page.getByText("Patch from the ferry")).toBeVisible();
    await expect(page.getByText(requestId)).toBeVisible();
    await page.getByRole("tab", { name: "Audit" }).click();
    await expect(page.getByText("Needs the network")).toBeVisible();

    // A click in the list (a client-side navigation, whose server fetch fails offline) lands on the same page.
    await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Requests" }).click();
    await expect(page).toHaveURL(`${url}/requests`);
    await card.getByRole("link", { name: "alice on build-01" }).click();
    await expect(page).toHaveURL(`${url}/requests/view?id=${requestId}`);
    await expect(page.getByRole("heading", { name: /alice on build-01/, level: 1 })).toBeVisible();

    // Approve offline from the detail page: it waits on the phone; the computer knows nothing yet.
    await page.getByRole("button", { name: "Approve", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Approve request" });
    await dialog.getByLabel("Note").fill("Approved from the ferry");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByText("Waiting to sync", { exact: true })).toBeVisible();
    await expect(page.getByRole("button", { name: "Approve", exact: true })).toBeHidden();
    await expect(page.getByRole("button", { name: "Sync: Offline · 1 waiting to sync" })).toBeVisible();
    expect(await s.check("alice")).toBe(3);

    // The policy, by URL, from the store: its details, and Disable through the outbox; Versions needs the network.
    await page.goto(`${url}/policies/${policyId}`);
    await expect(page).toHaveURL(`${url}/policies/view?id=${policyId}`);
    await expect(page.getByRole("heading", { name: /Build tools/, level: 1 })).toBeVisible();
    await expect(page.getByText("Deployed", { exact: true })).toBeVisible();
    await expect(page.getByText("bob", { exact: true })).toBeVisible();
    await page.getByRole("tab", { name: "Versions" }).click();
    await expect(page.getByText("Needs the network")).toBeVisible();
    // Its Edit form opens offline too, filled from the store (saving offline is e2e/offline.spec.ts's).
    await page.getByRole("link", { name: "Edit" }).click();
    await expect(page).toHaveURL(`${url}/policies/edit?id=${policyId}`);
    await expect(page.getByLabel("User Name")).toHaveValue("bob");
    await page.goto(`${url}/policies/${policyId}`);
    await page.getByRole("button", { name: "Disable" }).click();
    await expect(page.getByRole("button", { name: "Sync: Offline · 2 waiting to sync" })).toBeVisible();

    // The computer, by a click in the (precached) Computers list.
    await page.goto(`${url}/computers`);
    await page.getByRole("link", { name: "build-01" }).click();
    await expect(page).toHaveURL(`${url}/computers/view?id=${computerId}`);
    await expect(page.getByRole("heading", { name: "build-01", level: 1 })).toBeVisible();
    await expect(page.getByText("Enrolled", { exact: true })).toBeVisible();
    await expect(page.getByText("Needs the network")).toBeVisible();

    // Online again: both changes sync without a reload; the server records them and the computer follows.
    await context.setOffline(false);
    await eventually(async () => (await s.check("alice")) === 0, 10_000, 100);
    expect(requestStatus(await pending)).toBe("approved");
    await expect(page.getByRole("button", { name: /^Sync: Synced/ })).toBeVisible();
    const request = await trpcGet<{ status: string; note: string | null; approvals: { email: string }[] }>(page, url, "requests.get", { id: requestId });
    expect(request).toMatchObject({ status: "approved", note: "Approved from the ferry", approvals: [{ email: OWNER.email }] });
    expect((await trpcGet<{ status: string }>(page, url, "policies.get", { id: policyId })).status).toBe("disabled");

    // Online, /requests/<id> (the link in emails and webhooks) stays where it is and shows the approval.
    await page.goto(`${url}/requests/${requestId}`);
    await expect(page).toHaveURL(`${url}/requests/${requestId}`);
    await expect(page.getByRole("heading", { name: /alice on build-01/, level: 1 })).toContainText("Approved");
    await page.getByRole("tab", { name: "Audit" }).click();
    await expect(page.getByRole("list", { name: "Events, newest first" })).toBeVisible();
  } finally {
    await s.cleanup();
  }
});
