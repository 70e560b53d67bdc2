// Web push in Chromium with the real server (production build and its service worker): the owner's "device" is a
// push receiver on loopback (server/notify/push-receiver.test-support.ts) that decrypts what the server pushes; the
// message is then handed to the console's service worker with the DevTools protocol (ServiceWorker.deliverPushMessage;
// a real push service cannot be reached from here). The worker shows the notification with Approve and Decline;
// Approve approves the request on the server as the signed-in owner. Offline, the approval waits on the device
// (the console shows it waiting to sync) and reaches the server when the network is back; with no console open the
// worker sends it itself. A late approval (someone declined first) is refused by the server and the notification says so.
import { expect, test, type BrowserContext, type Page, type Worker } from "@playwright/test";
import { PushReceiver, type ReceivedPush } from "../server/notify/push-receiver.test-support";
import { eventually, startServer, type ServerProcess } from "./support";

const OWNER = { email: "owner@example.com", password: "a long owner passphrase" };

async function signIn(page: Page, url: string) {
  await page.goto(`${url}/login`);
  await page.getByLabel("Email").fill(OWNER.email);
  await page.getByLabel("Password").fill(OWNER.password);
  await page.getByRole("button", { name: /Sign in/ }).click();
  await expect(page).toHaveURL(/\/requests$/);
}

async function trpc<T>(page: Page, url: string, path: string, input?: unknown, method: "GET" | "POST" = "POST"): Promise<T> {
  const res =
    method === "POST"
      ? await page.request.post(`${url}/api/trpc/${path}`, { data: input ?? {} })
      : await page.request.get(`${url}/api/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`);
  expect(res.ok(), `${path}: ${await res.text()}`).toBe(true);
  return ((await res.json()) as { result: { data: T } }).result.data;
}

/** Enrolls a computer through the agent protocol and returns a function that submits requests from it. */
async function computer(page: Page, url: string) {
  const { token } = await trpc<{ token: string }>(page, url, "computers.createEnrollmentToken");
  const enrolled = await fetch(`${url}/agent/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, name: "build-01", os: "linux test", agentVersion: "0.1.0" }),
  });
  expect(enrolled.status).toBe(200);
  const { agentToken } = (await enrolled.json()) as { agentToken: string };
  return async (justification: string) => {
    const res = await fetch(`${url}/agent/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${agentToken}`, "content-type": "application/json" },
      body: JSON.stringify({ user: "alice", app: { path: "/opt/tools/build-tool", sha256: "c".repeat(64) }, duration: "30m", justification }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
}

/** The bits of the worker's global scope used here (the DOM lib has no WebWorker types). */
type SwScope = {
  registration: ServiceWorkerRegistration;
  dispatchEvent: (e: Event) => boolean;
  NotificationEvent: new (type: string, init: { notification: Notification; action: string }) => Event;
};
type Shown = { title: string; body: string; tag: string; requireInteraction: boolean; actions: { action: string; title: string }[] };

/** The console's service worker, its registration id for the DevTools protocol, and a way to push to it. */
async function serviceWorker(context: BrowserContext, page: Page, url: string) {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  const cdp = await context.newCDPSession(page);
  const registrations = new Map<string, string>();
  cdp.on("ServiceWorker.workerRegistrationUpdated", (e: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
    for (const r of e.registrations) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
  });
  await cdp.send("ServiceWorker.enable");
  const registrationId = await eventually(async () => registrations.get(`${url}/`), 10_000);
  const worker: Worker = context.serviceWorkers().find((w) => w.url().startsWith(`${url}/sw.js`)) ?? (await context.waitForEvent("serviceworker"));
  return {
    worker,
    push: (data: string) => cdp.send("ServiceWorker.deliverPushMessage", { origin: url, registrationId, data }),
    notifications: (): Promise<Shown[]> =>
      worker.evaluate(async () =>
        (await (self as unknown as SwScope).registration.getNotifications()).map((n: Notification) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
          requireInteraction: n.requireInteraction,
          actions: ((n as unknown as { actions?: { action: string; title: string }[] }).actions ?? []).map((a) => ({ action: a.action, title: a.title })),
        })),
      ),
    /** What a tap on the notification's action button does: the worker's notificationclick with that action. */
    click: (tag: string, action: string) =>
      worker.evaluate(
        async ([t, a]) => {
          const scope = self as unknown as SwScope;
          const [n] = await scope.registration.getNotifications({ tag: t });
          if (!n) throw new Error(`no notification ${t}`);
          scope.dispatchEvent(new scope.NotificationEvent("notificationclick", { notification: n, action: a }));
        },
        [tag, action] as const,
      ),
  };
}

const statusOf = async (page: Page, url: string, id: string) => (await trpc<{ status: string; decidedBy: { name: string | null } | null }>(page, url, "requests.get", { id }, "GET"));

test("a pushed request shows as a notification; Approve approves it on the server; offline the approval waits and syncs", async ({ page, context }) => {
  const server: ServerProcess = await startServer({ ADMIN_EMAIL: OWNER.email, ADMIN_PASSWORD: OWNER.password, NOTIFY_ALLOW_LOOPBACK_HTTP: "1" });
  const device = await new PushReceiver().open();
  const url = server.url;
  try {
    await context.grantPermissions(["notifications"], { origin: url });
    await signIn(page, url);
    const sw = await serviceWorker(context, page, url);

    // The owner's device subscribes (the receiver stands in for the browser's push service), and a request arrives.
    await trpc(page, url, "push.subscribe", { ...device.subscription, label: "Test phone" });
    const submit = await computer(page, url);
    const first = await submit("Hotfix for the release");
    const [message] = (await device.waitFor(1)) as [ReceivedPush];
    expect(device.errors).toEqual([]);
    expect(message.json).toMatchObject({ kind: "request.submitted", requestId: first, user: "alice", computer: "build-01", justification: "Hotfix for the release" });

    // The worker shows it, with Approve and Decline.
    await sw.push(message.text);
    const shown = await eventually(async () => (await sw.notifications()).find((n) => n.tag === first));
    expect(shown).toMatchObject({
      title: "Elevation request: build-tool",
      requireInteraction: true,
      actions: [
        { action: "approve", title: "Approve" },
        { action: "decline", title: "Decline" },
      ],
    });
    expect(shown.body).toContain("alice@build-01");
    expect(shown.body).toContain("Hotfix for the release");

    // Approve from the notification: approved on the server, by the owner, and the worker says so.
    await sw.click(first, "approve");
    await eventually(async () => (await statusOf(page, url, first)).status === "approved");
    expect((await statusOf(page, url, first)).decidedBy?.name).toBe(OWNER.email);
    await eventually(async () => (await sw.notifications()).some((n) => n.tag === first && n.title === "Approved"));

    // Offline: the approval waits on the device, the console shows it waiting to sync, the server knows nothing yet.
    const second = await submit("Rotate the build certificate");
    const pushed = await device.waitFor(2);
    await sw.push(pushed[1]!.text);
    await eventually(async () => (await sw.notifications()).find((n) => n.tag === second && n.title.startsWith("Elevation request")));
    await context.setOffline(true);
    await sw.click(second, "approve");
    await eventually(async () => (await sw.notifications()).some((n) => n.tag === second && n.title === "Waiting to sync"));
    await expect(page.getByRole("button", { name: /1 waiting to sync/ })).toBeVisible();
    expect((await statusOf(page, url, second)).status).toBe("pending");

    // Back online: it syncs, and the server records the approval once.
    await context.setOffline(false);
    await eventually(async () => (await statusOf(page, url, second)).status === "approved", 20_000);
    await expect(page.getByRole("button", { name: /waiting to sync/ })).toBeHidden();
    const trail = await trpc<{ events: { type: string; actor: { name: string | null } }[] }>(page, url, "events.list", { filter: { requestId: second } }, "GET");
    expect(trail.events.filter((e) => e.type === "request.approved").map((e) => e.actor.name)).toEqual([OWNER.email]);

    // Someone else decided first: the server refuses the late approval, and the notification says why.
    const third = await submit("Clean the build cache");
    const more = await device.waitFor(3);
    await sw.push(more[2]!.text);
    await eventually(async () => (await sw.notifications()).find((n) => n.tag === third && n.title.startsWith("Elevation request")));
    await trpc(page, url, "requests.decline", { id: third, reason: "Not during the release" });
    await sw.click(third, "approve");
    const late = await eventually(async () => (await sw.notifications()).find((n) => n.tag === third && n.title === "Your decision did not count"));
    expect(late.body).toMatch(/^Declined by owner@example\.com/);
    expect((await statusOf(page, url, third)).status).toBe("declined");

    // No console open: the worker itself sends a queued decision once it is back online (Background Sync or the next push).
    const fourth = await submit("Patch the kernel");
    const again = await device.waitFor(4);
    await sw.push(again[3]!.text);
    await eventually(async () => (await sw.notifications()).find((n) => n.tag === fourth && n.title.startsWith("Elevation request")));
    await page.goto("about:blank");
    await context.setOffline(true);
    await sw.click(fourth, "approve");
    await eventually(async () => (await sw.notifications()).some((n) => n.tag === fourth && n.title === "Waiting to sync"));
    await context.setOffline(false);
    await sw.push(JSON.stringify({ kind: "test", url: "/settings/notifications" }));
    await eventually(async () => (await statusOf(page, url, fourth)).status === "approved", 20_000);
    await eventually(async () => (await sw.notifications()).some((n) => n.tag === fourth && n.title === "Approved"));

    // Settings → Notifications lists the owner's devices.
    await page.goto(`${url}/settings/notifications`);
    await expect(page.getByRole("heading", { name: "This device" })).toBeVisible();
    await expect(page.getByText("Test phone")).toBeVisible();
    await expect(page.getByText("Off on this device.")).toBeVisible();
    // Headless Chromium has no push service ("Registration failed"): the section says what went wrong, or turns on.
    await page.getByRole("button", { name: "Turn on notifications" }).click();
    await expect(page.getByText(/^On for this device\.|^Notifications were not turned on$/)).toBeVisible();
    await page.getByRole("button", { name: "Remove Test phone" }).click();
    await expect(page.getByText("Test phone")).toBeHidden();
    expect((await trpc<{ devices: unknown[] }>(page, url, "push.mySubscriptions", undefined, "GET")).devices).toEqual([]);
  } finally {
    await device.close();
    await server.stop();
  }
});
