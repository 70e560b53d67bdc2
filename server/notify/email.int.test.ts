// Email notifications end to end: a real SMTP server on loopback (smtp-server from npm, with a user and password
// given in SMTP_URL) receives the emails of approvers who opted in, and none for those who did not or may not.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setUpOwner, signedInClient, startTestServer, TEST_DB, trpcCode, type TestServer } from "../test-support";

type Mail = { from: string; to: string[]; raw: string; text: string };

/** Undoes quoted-printable soft breaks and escapes, enough to read the body of a plain-text message. */
const unfold = (raw: string) => raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

async function smtpServer(user: string, pass: string) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === pass) cb(null, { user });
      else cb(new Error("Invalid username or password"));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), raw, text: unfold(raw) });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { mails, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const PASSWORD = "a long enough password";
let srv: TestServer | null = null;
let smtp: Awaited<ReturnType<typeof smtpServer>> | null = null;
afterEach(async () => {
  await srv?.stop();
  await smtp?.close();
  srv = null;
  smtp = null;
});

describe(`email notifications on ${TEST_DB}`, () => {
  it("emails opted-in approvers with a link to the request; none to an opted-out approver or an auditor", async () => {
    smtp = await smtpServer("jit", "s3cret pass");
    srv = await startTestServer({
      env: { smtpUrl: `smtp://jit:${encodeURIComponent("s3cret pass")}@127.0.0.1:${smtp.port}`, mailFrom: "JIT Access <jit@example.com>", publicUrl: "https://jit.example.com" },
      notify: { pollMs: 200, retry: { baseMs: 20, capMs: 150 } },
    });
    const s = srv;
    const { client: owner } = await setUpOwner(s.url);
    const person = async (email: string, role: "approver" | "auditor") => {
      await owner.users.create.mutate({ email, password: PASSWORD, role });
      return (await signedInClient(s.url, email, PASSWORD)).client;
    };
    const ann = await person("ann@example.com", "approver");
    const bob = await person("bob@example.com", "approver");
    const aud = await person("aud@example.com", "auditor");

    // What each role is offered; the owner and Ann opt in, Bob turns it off, the auditor may not ask for requests.
    const annPrefs = await ann.notifications.email.get.query();
    expect(annPrefs).toMatchObject({ enabled: false, available: true, address: "ann@example.com" });
    expect(annPrefs.offered).toEqual(["request.submitted", "request.decided", "grant.ended", "policy.deployed", "audit.verify_failed"]);
    expect((await aud.notifications.email.get.query()).offered).toEqual(["policy.deployed", "audit.verify_failed"]);
    await expect(aud.notifications.email.set.mutate({ enabled: true, events: ["request.submitted"] })).rejects.toSatisfy((e) => trpcCode(e) === "FORBIDDEN");
    await aud.notifications.email.set.mutate({ enabled: true, events: ["policy.deployed", "audit.verify_failed"] });
    // Even a stored preference the role may not have sends nothing (checked again at fan-out).
    await s.services.db.updateTable("notification_prefs").set({ email_events: JSON.stringify(["request.submitted", "policy.deployed"]) }).execute();
    await owner.notifications.email.set.mutate({ enabled: true, events: ["request.submitted", "request.decided"] });
    expect(await ann.notifications.email.set.mutate({ enabled: true, events: ["request.submitted"] })).toMatchObject({ enabled: true, events: ["request.submitted"] });
    await bob.notifications.email.set.mutate({ enabled: false, events: ["request.submitted"] });

    const { token } = await owner.computers.createEnrollmentToken.mutate();
    const enrolled = (await (
      await fetch(`${s.url}/agent/v1/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token, name: "build-01", os: "linux test", agentVersion: "0.1.0" }) })
    ).json()) as { agentToken: string };
    const res = await fetch(`${s.url}/agent/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${enrolled.agentToken}`, "content-type": "application/json" },
      body: JSON.stringify({ user: "alice", app: { path: "/usr/bin/tool", sha256: "b".repeat(64) }, duration: "30m", justification: "deploy the hotfix to prod" }),
    });
    const request = (await res.json()) as { id: string };

    await vi.waitFor(() => expect(smtp!.mails).toHaveLength(2), { timeout: 10_000, interval: 50 });
    await s.notifier.dispatchNow();
    expect(smtp.mails.flatMap((m) => m.to).sort()).toEqual(["ann@example.com", "owner@example.com"]);
    for (const m of smtp.mails) {
      expect(m.from).toBe("jit@example.com");
      expect(m.text).toMatch(/^Subject: \[JIT Access\] Elevation request: alice on build-01/m);
      expect(m.text).toContain(`https://jit.example.com/requests/${request.id}`);
      expect(m.text).toContain("Justification: deploy the hotfix to prod");
    }

    // The decision: only the owner asked for it.
    await owner.requests.approve.mutate({ id: request.id, duration: "15m" });
    await vi.waitFor(() => expect(smtp!.mails).toHaveLength(3), { timeout: 10_000, interval: 50 });
    expect(smtp.mails[2]!.to).toEqual(["owner@example.com"]);
    expect(smtp.mails[2]!.text).toMatch(/Subject: \[JIT Access\] Request approved/);
    expect(smtp.mails.some((m) => m.to.includes("aud@example.com") || m.to.includes("bob@example.com"))).toBe(false);
    // The password in SMTP_URL appears in no delivery and no log line we keep.
    const stored = await s.services.db.selectFrom("notification_deliveries").select(["payload", "last_error"]).execute();
    expect(JSON.stringify(stored)).not.toContain("s3cret");

    expect(await ann.notifications.email.sendTest.mutate()).toEqual({ ok: true, status: null, error: null });
    expect(smtp.mails.at(-1)!.to).toEqual(["ann@example.com"]);
  });

  it("retries while the mail server is away and delivers afterwards", async () => {
    smtp = await smtpServer("jit", "pw");
    const port = smtp.port;
    await smtp.close();
    srv = await startTestServer({ env: { smtpUrl: `smtp://jit:pw@127.0.0.1:${port}`, publicUrl: "https://jit.example.com" }, notify: { pollMs: 200, retry: { baseMs: 20, capMs: 150 } } });
    const s = srv;
    const { client: owner } = await setUpOwner(s.url);
    await owner.notifications.email.set.mutate({ enabled: true, events: ["policy.deployed"] });
    await owner.policies.create.mutate({ name: "Build tools", computers: ["build-01"], users: ["alice"], duration: { type: "fixed", length: "2h" }, applications: [{ type: "fileHash", sha256: "a".repeat(64) }], deploy: true });
    await vi.waitFor(
      async () => {
        const d = await s.services.db.selectFrom("notification_deliveries").select(["attempts", "status"]).executeTakeFirstOrThrow();
        expect(d).toMatchObject({ status: "pending" });
        expect(Number(d.attempts)).toBeGreaterThanOrEqual(2);
      },
      { timeout: 10_000, interval: 50 },
    );
    // Back on the same port.
    const again = new SMTPServer({
      secure: false,
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      logger: false,
      onAuth: (_a, _s, cb) => cb(null, { user: "jit" }),
      onData(stream, session, cb) {
        stream.resume();
        stream.on("end", () => {
          got.push(session.envelope.rcptTo.map((r) => r.address).join(","));
          cb();
        });
      },
    });
    const got: string[] = [];
    await new Promise<void>((r) => again.listen(port, "127.0.0.1", () => r()));
    smtp = { mails: [], port, close: () => new Promise<void>((r) => again.close(() => r())) };
    await vi.waitFor(() => expect(got).toEqual(["owner@example.com"]), { timeout: 10_000, interval: 50 });
  });
});
