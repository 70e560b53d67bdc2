import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { classifyStatus, formatBody, isLoopbackHost, signBody, verifySignature, webhookUrlProblem } from "./webhook";
import type { NotificationMessage } from "./message";
import { redactSmtpUrl, smtpOutcome } from "./email";

const msg: NotificationMessage = {
  kind: "request.submitted",
  seq: 42,
  eventId: "e1",
  eventType: "request.submitted",
  at: "2026-03-02T10:00:00.000Z",
  title: "Elevation request: alice on build-01",
  text: "alice on build-01 asks to run /usr/bin/<tool> & more",
  link: "https://jit.example.com/requests/r1",
  actor: { type: "computer", name: "build-01" },
  request: { id: "r1", user: "alice", computer: { id: "c1", name: "build-01" }, app: { path: "/usr/bin/tool", sha256: null }, justification: "hotfix", status: "pending", requestedDuration: "30m", grantedDuration: null, decision: null },
};

describe("webhook signature", () => {
  it("is sha256=<hex HMAC-SHA256 of the exact body> and verifies only with the same secret and bytes", () => {
    const body = '{"a":1}';
    expect(signBody("k", body)).toBe(`sha256=${createHmac("sha256", "k").update(body).digest("hex")}`);
    expect(verifySignature("k", body, signBody("k", body))).toBe(true);
    expect(verifySignature("k", '{"a": 1}', signBody("k", body))).toBe(false);
    expect(verifySignature("other", body, signBody("k", body))).toBe(false);
    expect(verifySignature("k", body, undefined)).toBe(false);
    expect(verifySignature("k", body, "sha256=00")).toBe(false);
  });
});

describe("webhook outcomes", () => {
  it.each([
    [200, true, false],
    [204, true, false],
    [301, false, false],
    [400, false, false],
    [404, false, false],
    [410, false, false],
    [408, false, true],
    [429, false, true],
    [500, false, true],
    [503, false, true],
  ])("HTTP %i → ok %s, retry %s", (status, ok, retry) => {
    const o = classifyStatus(status);
    expect(o.ok).toBe(ok);
    if (!o.ok) expect(o.retry).toBe(retry);
  });
});

describe("webhook URLs", () => {
  it.each([
    ["https://hooks.example.com/x", false, null],
    ["http://hooks.example.com/x", false, null],
    ["ftp://hooks.example.com/x", false, /https/],
    ["not a url", false, /full URL/],
    ["http://127.0.0.1:9/x", false, /own machine/],
    ["http://localhost/x", false, /own machine/],
    ["https://[::1]/x", false, /own machine/],
    ["http://127.0.0.1:9/x", true, null],
  ] as const)("%s (loopback allowed: %s)", (url, allow, problem) => {
    const p = webhookUrlProblem(url, allow);
    if (problem === null) expect(p).toBeNull();
    else expect(p).toMatch(problem);
  });
  it("knows loopback hosts", () => {
    expect(["localhost", "a.localhost", "127.0.0.2", "::1", "[::1]", "0.0.0.0"].every(isLoopbackHost)).toBe(true);
    expect(["example.com", "10.0.0.1", "::2", "128.0.0.1"].some(isLoopbackHost)).toBe(false);
  });
});

describe("webhook bodies", () => {
  it("generic JSON carries the kind, the timestamp, the event and the request", () => {
    const b = JSON.parse(formatBody("generic", msg, "T"));
    expect(b).toMatchObject({ type: "request.submitted", timestamp: "T", event: { seq: 42, id: "e1" }, link: msg.link, request: { id: "r1", user: "alice" } });
  });
  it("Slack escapes its mrkdwn and links the request", () => {
    const b = JSON.parse(formatBody("slack", msg, "T"));
    expect(b.blocks[0].text.text).toContain("/usr/bin/&lt;tool&gt; &amp; more");
    expect(b.blocks.at(-1).elements[0].url).toBe(msg.link);
    // No button where there is no absolute link (PUBLIC_URL unset).
    expect(JSON.parse(formatBody("slack", { ...msg, link: "/requests/r1" }, "T")).blocks.some((x: { type: string }) => x.type === "actions")).toBe(false);
  });
  it("Teams is an Adaptive Card message", () => {
    const b = JSON.parse(formatBody("teams", msg, "T"));
    expect(b.attachments[0].content).toMatchObject({ type: "AdaptiveCard", actions: [{ type: "Action.OpenUrl", url: msg.link }] });
  });
});

describe("SMTP", () => {
  it("never shows the password of SMTP_URL", () => {
    expect(redactSmtpUrl("smtp://jit:s3cret@mail.example.com:587")).toBe("smtp://jit:***@mail.example.com:587");
    expect(redactSmtpUrl("smtps://mail.example.com")).toBe("smtps://mail.example.com");
  });
  it("retries 4xx and network errors, not 5xx", () => {
    expect(smtpOutcome({ responseCode: 451, message: "try later" })).toMatchObject({ ok: false, retry: true });
    expect(smtpOutcome({ code: "ECONNREFUSED", message: "connect ECONNREFUSED" })).toMatchObject({ ok: false, retry: true });
    expect(smtpOutcome({ responseCode: 550, message: "no such mailbox" })).toMatchObject({ ok: false, retry: false, status: 550 });
  });
});
