// Web push end to end on a real database (SQLite, or PostgreSQL with TEST_DB=postgres): approvers subscribe with
// "devices" on loopback (push-receiver.test-support.ts: decrypts RFC 8291 aes128gcm and checks the RFC 8292 VAPID
// JWT on its own), an agent submits requests, the dispatcher pushes each pending one to every device of everyone who
// may decide it and to nobody else; a 410 from the push service removes the subscription.
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { decryptAes128gcm, encryptAes128gcm, PushReceiver } from "./push-receiver.test-support";
import { SettingsSchema } from "../../core/settings";
import { pushEndpointProblem } from "./push";
import { apiClient, enrollComputer, setUpOwner, signedInClient, startTestServer, TEST_DB, trpcCode, type TestServer } from "../test-support";

const PASSWORD = "a long enough password";
const servers: TestServer[] = [];
const receivers: PushReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  for (const s of servers.splice(0).reverse()) await s.stop();
});

async function receiver() {
  const r = await new PushReceiver().open();
  receivers.push(r);
  return r;
}

async function setUp() {
  const srv = await startTestServer({
    env: { notifyAllowLoopbackHttp: true, publicUrl: "https://jit.example.com", vapidSubject: "mailto:security@example.com" },
    notify: { pollMs: 200, retry: { baseMs: 20, capMs: 150 } },
  });
  servers.push(srv);
  const { client: owner } = await setUpOwner(srv.url);
  const as = async (email: string, role: "approver" | "admin" | "auditor") => {
    await owner.users.create.mutate({ email, password: PASSWORD, role });
    const { client } = await signedInClient(srv.url, email, PASSWORD);
    return client;
  };
  const enrolled = await enrollComputer(srv.url, owner, "build-01");
  const submit = async (justification: string) => {
    const res = await fetch(`${srv.url}/agent/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${enrolled.agentToken}`, "content-type": "application/json" },
      body: JSON.stringify({ user: "alice", app: { path: "/usr/bin/tool", sha256: "b".repeat(64) }, duration: "30m", justification }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  return { srv, owner, as, submit };
}

describe(`web push (${TEST_DB})`, () => {
  it("the receiver itself decrypts a message made to RFC 8291", () => {
    const r = new PushReceiver();
    const msg = Buffer.from(JSON.stringify({ hello: "world" }));
    const body = encryptAes128gcm(msg, r.ua.getPublicKey(), r.authSecret);
    expect(decryptAes128gcm(body, r.ua, r.authSecret).toString()).toBe(msg.toString());
    expect(() => decryptAes128gcm(body, r.ua, randomBytes(16))).toThrow();
  });

  it("pushes each pending request to every approver's device, none to an auditor; a 503 is retried; a 410 removes the subscription", async () => {
    const { srv, as, submit } = await setUp();
    const dana = await as("dana@example.com", "approver");
    const erin = await as("erin@example.com", "admin");
    const audrey = await as("audrey@example.com", "auditor");
    const [danaPhone, danaLaptop, erinPhone, audreyPhone] = [await receiver(), await receiver(), await receiver(), await receiver()];

    const { publicKey, canSubscribe } = await dana.push.vapidPublicKey.query();
    expect(canSubscribe).toBe(true);
    expect(Buffer.from(publicKey, "base64url")).toHaveLength(65);
    await dana.push.subscribe.mutate({ ...danaPhone.subscription, label: "Dana's phone" });
    await dana.push.subscribe.mutate({ ...danaLaptop.subscription, label: "Dana's laptop" });
    await erin.push.subscribe.mutate({ ...erinPhone.subscription, label: "Erin's phone" });
    // Subscribing again (the same endpoint) updates, never duplicates.
    await dana.push.subscribe.mutate({ ...danaPhone.subscription, label: "Dana's phone" });
    expect((await dana.push.mySubscriptions.query()).devices.map((d) => d.label)).toEqual(["Dana's phone", "Dana's laptop"]);

    // An auditor decides nothing: they cannot subscribe…
    expect((await audrey.push.vapidPublicKey.query()).canSubscribe).toBe(false);
    const refused = await audrey.push.subscribe.mutate(audreyPhone.subscription).catch((e: unknown) => e);
    expect(trpcCode(refused)).toBe("FORBIDDEN");
    expect((refused as Error).message).toMatch(/does not decide requests/);
    // …and even a subscription that exists (say, from before a role change) gets nothing.
    const audreyId = (await srv.services.db.selectFrom("users").select("id").where("email", "=", "audrey@example.com").executeTakeFirstOrThrow()).id;
    await srv.services.db
      .insertInto("push_subscriptions")
      .values({ id: "audrey-sub", user_id: audreyId, endpoint: audreyPhone.subscription.endpoint, p256dh: audreyPhone.subscription.keys.p256dh, auth: audreyPhone.subscription.keys.auth, label: "x", created_at: new Date().toISOString(), last_used_at: null })
      .execute();

    const first = await submit("deploy the hotfix to prod");
    const second = await submit("rotate the TLS certificate");
    await srv.notifier.dispatchNow();
    for (const device of [danaPhone, danaLaptop, erinPhone]) {
      const got = await device.waitFor(2);
      expect(device.errors).toEqual([]);
      expect(got.map((m) => (m.json as { requestId: string }).requestId)).toEqual([first, second]);
      const m = got[0]!;
      expect(m.json).toMatchObject({
        kind: "request.submitted",
        requestId: first,
        user: "alice",
        computer: "build-01",
        app: "/usr/bin/tool",
        justification: "deploy the hotfix to prod",
        duration: "30m",
        url: `https://jit.example.com/requests/${first}`,
      });
      expect(m.text.length).toBeLessThan(3000);
      // VAPID (RFC 8292): the server's key, the endpoint's origin, the configured contact.
      expect(m.vapid.publicKey).toBe(publicKey);
      expect(m.vapid.claims.aud).toBe(device.origin);
      expect(m.vapid.claims.sub).toBe("mailto:security@example.com");
      expect(m.headers.urgency).toBe("high");
      expect(Number(m.headers.ttl)).toBeGreaterThan(0);
    }
    expect((danaPhone.received[0]!.json as { userId: string }).userId).not.toBe((erinPhone.received[0]!.json as { userId: string }).userId);
    expect(audreyPhone.hits).toBe(0);
    const devices = (await dana.push.mySubscriptions.query()).devices;
    expect(devices.every((d) => d.lastUsedAt !== null)).toBe(true);

    // Dana's laptop unsubscribed in the browser: its push service answers 410 Gone from now on. Erin's push service
    // is overloaded for a moment (503): retried until it takes the message.
    danaLaptop.status = 410;
    erinPhone.status = 503;
    const erinHits = erinPhone.hits;
    const third = await submit("restart the build agent");
    await srv.notifier.dispatchNow();
    await danaPhone.waitFor(3);
    await eventually(async () => erinPhone.hits > erinHits);
    erinPhone.status = 201;
    await srv.notifier.dispatchNow();
    await erinPhone.waitFor(3);
    await eventually(async () => (await dana.push.mySubscriptions.query()).devices.length === 1);
    expect((await dana.push.mySubscriptions.query()).devices.map((d) => d.label)).toEqual(["Dana's phone"]);
    expect(danaLaptop.received).toHaveLength(2);
    const dropped = await srv.services.db.selectFrom("notification_deliveries").select(["status", "last_status"]).where("channel", "=", "push").where("status", "=", "dropped").execute();
    expect(dropped).toEqual([{ status: "dropped", last_status: 410 }]);
    expect((danaPhone.received[2]!.json as { requestId: string }).requestId).toBe(third);
    expect(audreyPhone.hits).toBe(0);
  });

  it("a request an autonomous rule approves at once is not pushed", async () => {
    const { srv, owner, as, submit } = await setUp();
    const dana = await as("dana@example.com", "approver");
    const phone = await receiver();
    await dana.push.subscribe.mutate(phone.subscription);
    await owner.settings.update.mutate(
      SettingsSchema.parse({
        autonomousApproval: { enabled: true, rules: [{ id: "r1", name: "Build tools", users: ["alice"], applications: [{ type: "fileHash", sha256: "b".repeat(64) }], computers: ["build-*"], maxDuration: "1h" }] },
      }),
    );
    const byRule = await submit("approved by the rule");
    // The rule's decision commits just after the submission: the submitted event already says a rule approves it,
    // so no fan-out, however it falls between the two, asks anyone to decide it.
    const submitted = await srv.services.db.selectFrom("events").select("detail").where("request_id", "=", byRule).where("type", "=", "request.submitted").executeTakeFirstOrThrow();
    expect(JSON.parse(submitted.detail)).toMatchObject({ autonomousApprovalRule: "Build tools" });
    await srv.notifier.dispatchNow();
    await owner.settings.update.mutate(SettingsSchema.parse({ autonomousApproval: { enabled: false, rules: [] } }));
    const waits = await submit("this one waits");
    await srv.notifier.dispatchNow();
    const got = await phone.waitFor(1);
    expect(got.map((m) => (m.json as { requestId: string }).requestId)).toEqual([waits]);
  });

  it("test notifications, turning a device off, and the subscription checks", async () => {
    const { owner } = await setUp();
    const phone = await receiver();
    await owner.push.subscribe.mutate({ ...phone.subscription, label: "Owner's phone" });
    const { results } = await owner.push.sendTest.mutate();
    expect(results).toEqual([expect.objectContaining({ label: "Owner's phone", ok: true, removed: false })]);
    expect((await phone.waitFor(1))[0]!.json).toMatchObject({ kind: "test", url: "https://jit.example.com/settings/notifications" });

    // Bad keys and endpoints are refused with the reason.
    const bad = async (input: unknown) => trpcCode(await owner.push.subscribe.mutate(input as never).catch((e: unknown) => e));
    expect(await bad({ ...phone.subscription, keys: { ...phone.subscription.keys, auth: Buffer.alloc(8).toString("base64url") } })).toBe("BAD_REQUEST");
    expect(await bad({ ...phone.subscription, keys: { ...phone.subscription.keys, p256dh: Buffer.alloc(65, 1).toString("base64url") } })).toBe("BAD_REQUEST");
    expect(await bad({ ...phone.subscription, endpoint: "http://push.example.com/x" })).toBe("BAD_REQUEST");
    expect(await bad({ ...phone.subscription, endpoint: "https://10.0.0.5/x" })).toBe("BAD_REQUEST");

    // Turning this device off; then a test reaches nobody.
    expect(await owner.push.unsubscribe.mutate({ endpoint: phone.subscription.endpoint })).toEqual({ removed: 1 });
    expect((await owner.push.sendTest.mutate()).results).toEqual([]);
    // Without a session nothing is readable.
    expect(trpcCode(await apiClient(servers[0]!.url).push.mySubscriptions.query().catch((e: unknown) => e))).toBe("UNAUTHORIZED");
  });
});

describe("push endpoints (SSRF guard)", () => {
  it("https on a public host only; plain http on loopback only when allowed", () => {
    expect(pushEndpointProblem("https://fcm.googleapis.com/fcm/send/abc", false)).toBeNull();
    expect(pushEndpointProblem("https://updates.push.services.mozilla.com/wpush/v2/abc", false)).toBeNull();
    expect(pushEndpointProblem("http://fcm.googleapis.com/fcm/send/abc", false)).toMatch(/https/);
    expect(pushEndpointProblem("http://127.0.0.1:9999/push", false)).toMatch(/https/);
    expect(pushEndpointProblem("https://127.0.0.1:9999/push", false)).toMatch(/private network/);
    expect(pushEndpointProblem("https://192.168.1.1/push", false)).toMatch(/private network/);
    expect(pushEndpointProblem("https://[::1]/push", false)).toMatch(/private network/);
    expect(pushEndpointProblem("https://user:pw@push.example.com/", false)).toMatch(/user name/);
    expect(pushEndpointProblem("http://127.0.0.1:9999/push", true)).toBeNull();
    expect(pushEndpointProblem("http://10.0.0.1/push", true)).toMatch(/https/);
    expect(pushEndpointProblem("not a url", true)).toMatch(/not a URL/);
  });
});

async function eventually(fn: () => Promise<boolean>, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 50));
  }
}
