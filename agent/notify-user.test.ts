import fc from "fast-check";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { AgentRequestView } from "../core/protocol";
import { notifySendCommand, escapeMarkup } from "./notify-user-writers";
import {
  BODY_MAX,
  deliver,
  LINE_MAX,
  loadTold,
  messageFor,
  notifyUnsupported,
  outcomeOf,
  parseWho,
  planTells,
  sanitizeText,
  TITLE_MAX,
  UserNotifier,
  type NotifyDeps,
} from "./notify-user";
import { makeTempDir } from "./test-fixtures";
import { agentRequestView } from "./request-view.test-support";
import { StateStore } from "./state";

const NOW = new Date("2026-11-27T14:00:00Z");

const view = (over: Partial<AgentRequestView> = {}): AgentRequestView => agentRequestView(over);

const approved = (over: Partial<AgentRequestView> = {}) =>
  view({
    status: "approved",
    decidedAt: "2026-11-27T13:58:00Z",
    decidedBy: { type: "user", id: "u1", name: "dana@example.com" },
    grantedDuration: "30m",
    startsAt: "2026-11-27T14:02:00Z",
    endsAt: "2026-11-27T14:32:00Z",
    ...over,
  });
const declined = (reason: string, over: Partial<AgentRequestView> = {}) =>
  view({ status: "declined", decidedAt: "2026-11-27T13:59:00Z", decidedBy: { type: "user", id: "u1", name: "dana" }, declineReason: reason, ...over });

describe("outcomeOf", () => {
  it.each([
    ["pending", view(), null],
    ["cancelled", view({ status: "cancelled" }), null],
    ["approved, in force", approved(), "approved"],
    ["approved, its end passed (before the sweeper says so)", approved({ endsAt: "2026-11-27T13:59:00Z" }), "expired"],
    ["declined", declined("no"), "declined"],
    ["lapsed", view({ status: "lapsed" }), "lapsed"],
    ["expired", approved({ status: "expired" }), "expired"],
    ["revoked by an admin", approved({ status: "revoked", revokedBy: { type: "user", id: "u1", name: "dana" } }), "revoked"],
    ["ended by the user themselves", approved({ status: "revoked", revokedBy: { type: "enduser", id: null, name: "alice" } }), null],
  ])("%s", (_name, v, kind) => {
    expect(outcomeOf(v, NOW)?.kind ?? null).toBe(kind);
  });
});

describe("messageFor", () => {
  const say = (v: AgentRequestView) => messageFor(outcomeOf(v, NOW)!, NOW, "UTC");
  it("approved: the app, the end time, who", () => {
    const m = say(approved({ note: "be quick" }));
    expect(m.title).toBe("Elevation approved: apt until 14:32");
    expect(m.body).toBe("Approved by dana@example.com for 30 minutes: /usr/bin/apt may run elevated until 14:32. Note: be quick");
    expect(m.line).toBe(`[JIT Access] ${m.title}. ${m.body}`);
  });
  it("an end on another day carries the date; the computer's time zone is used", () => {
    expect(say(approved({ endsAt: "2026-11-28T09:05:00Z" })).title).toBe("Elevation approved: apt until 28 Nov 09:05");
    expect(messageFor(outcomeOf(approved(), NOW)!, NOW, "Europe/Berlin").title).toBe("Elevation approved: apt until 15:32");
  });
  it("declined: who and why", () => {
    expect(say(declined("use staging"))).toMatchObject({ title: "Elevation declined: apt", body: "Declined by dana: use staging" });
    expect(say(declined("")).body).toBe("Declined by dana: no reason given");
  });
  it("revoked, expired, lapsed", () => {
    expect(say(approved({ status: "revoked", revokedBy: { type: "user", id: "u1", name: "dana" }, revokeReason: "incident over" })).body).toBe(
      "Revoked by dana: incident over. /usr/bin/apt no longer runs elevated.",
    );
    expect(say(approved({ status: "expired" }))).toMatchObject({ title: "Elevation ended: apt", body: "Your elevated access ended at 14:32; /usr/bin/apt no longer runs elevated." });
    expect(say(view({ status: "lapsed" })).title).toBe("Elevation request lapsed: apt");
  });
  it("server text with escape sequences, line breaks and great length comes out one clean, bounded line", () => {
    const evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m\r\nFAKE PROMPT $ \x9b2J\u202egnp.exe" + "x".repeat(5000);
    const m = say(declined(evil, { decidedBy: { type: "user", id: "u", name: "dana\x1b[8m" } }));
    for (const s of [m.title, m.body, m.line]) expect(s).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
    expect(m.body.startsWith("Declined by dana: red FAKE PROMPT $ gnp.exexxx")).toBe(true);
    expect(Array.from(m.body).length).toBeLessThanOrEqual(BODY_MAX);
    expect(Array.from(m.title).length).toBeLessThanOrEqual(TITLE_MAX);
    expect(Array.from(m.line).length).toBeLessThanOrEqual(LINE_MAX);
    expect(m.line.endsWith("…")).toBe(true);
  });
  it("an app path with control characters is cleaned too", () => {
    expect(say(approved({ app: { path: "/tmp/\x1b[1mevil\nname", sha256: "a".repeat(64) } })).title).toBe("Elevation approved: evil name until 14:32");
  });
});

describe("sanitizeText", () => {
  it.each([
    ["plain", "plain"],
    ["line\nbreak\r\nand\ttab", "line break and tab"],
    ["\x1b[31mred\x1b[0m", "red"],
    ["\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"],
    ["title\x1b]0;owned\x07", "title"],
    ["\x1bPdcs stuff\x1b\\after", "after"],
    ["bell\x07 nul\x00 del\x7f", "bell nul del"],
    ["c1 \x9b31m csi", "c1 csi"],
    ["bidi \u202eevil\u202c ok", "bidi evil ok"],
    ["lone \ud800 surrogate", "lone \ufffd surrogate"],
    ["  many    spaces  ", "many spaces"],
  ])("%j → %j", (input, expected) => {
    expect(sanitizeText(input, 200)).toBe(expected);
  });
  it("cuts at max characters (not bytes), with an ellipsis", () => {
    expect(sanitizeText("ééééé", 3)).toBe("éé…");
    expect(sanitizeText("😀😀😀😀", 2)).toBe("😀…");
  });
  it("never lets a control character or an over-long result through (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.integer({ min: 1, max: 120 }), (s, max) => {
        const out = sanitizeText(s, max);
        expect(out).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
        expect(Array.from(out).length).toBeLessThanOrEqual(max);
      }),
    );
  });
});

describe("parseWho", () => {
  it("reads terminal logins and leaves out graphical seats and odd lines", () => {
    const text = [
      "alice    pts/0        2026-11-27 07:00 (10.0.0.5)",
      "alice    pts/3        2026-11-27 07:05 (tmux(1234).%0)",
      "bob      tty2         2026-11-27 06:00",
      "alice    :0           2026-11-27 06:30 (:0)",
      "carol    pts/../../etc/passwd 2026-11-27 06:00",
      "dave     ttyS0        2026-11-27 06:00",
      "alice    pts/0        2026-11-27 07:00 (10.0.0.5)",
      "",
      "garbage",
    ].join("\n");
    expect(parseWho(text)).toEqual([
      { user: "alice", tty: "/dev/pts/0" },
      { user: "alice", tty: "/dev/pts/3" },
      { user: "bob", tty: "/dev/tty2" },
      { user: "dave", tty: "/dev/ttyS0" },
    ]);
  });
});

describe("planTells", () => {
  it("the first look tells nothing and remembers everything", () => {
    const r = planTells([approved(), declined("no", { id: "req_2" })], {}, NOW, true);
    expect(r.tell).toEqual([]);
    expect(Object.keys(r.told).sort()).toEqual(["req_1", "req_2"]);
  });
  it("each outcome once: approved, then its end", () => {
    const a = planTells([approved()], {}, NOW, false);
    expect(a.tell.map((o) => o.kind)).toEqual(["approved"]);
    expect(planTells([approved()], a.told, NOW, false).tell).toEqual([]);
    const later = new Date("2026-11-27T14:33:00Z");
    const e = planTells([approved()], a.told, later, false);
    expect(e.tell.map((o) => o.kind)).toEqual(["expired"]);
    // The server's sweeper then says "expired", or an admin had revoked it: already told.
    expect(planTells([approved({ status: "expired" })], e.told, later, false).tell).toEqual([]);
  });
  it("an approval that ended before it was told: only the end is said", () => {
    const r = planTells([approved({ status: "revoked", revokedBy: { type: "user", id: "u", name: "dana" } })], {}, NOW, false);
    expect(r.tell.map((o) => o.kind)).toEqual(["revoked"]);
    expect(r.told.req_1!.keys).toEqual(["approved", "ended"]);
  });
  it("old news is remembered, not told", () => {
    const old = declined("no", { decidedAt: "2026-11-20T10:00:00Z" });
    const r = planTells([old], {}, NOW, false);
    expect(r.tell).toEqual([]);
    expect(r.told.req_1!.keys).toEqual(["declined"]);
  });
});

describe("notifyUnsupported", () => {
  it("needs Linux and root", () => {
    expect(notifyUnsupported("linux", 0)).toBeNull();
    expect(notifyUnsupported("linux", 1000)).toMatch(/root/);
    expect(notifyUnsupported("darwin", 0)).toMatch(/Linux/);
    expect(notifyUnsupported("win32", undefined)).toMatch(/Linux/);
  });
});

describe("notify-send command", () => {
  it("runs as the user, into their session bus, with the body's markup escaped and `--` before the text", () => {
    const plan = notifySendCommand("/usr/bin/notify-send", { name: "alice", uid: 1000, gid: 1000, home: "/home/alice" }, "/run/user/1000/bus", "-title", "a <b>bold</b> & more");
    expect(plan.file).toBe("/usr/bin/notify-send");
    expect(plan.args).toEqual(["--app-name=JIT Access", "--urgency=normal", "--", "-title", "a &lt;b&gt;bold&lt;/b&gt; &amp; more"]);
    expect(plan.options).toMatchObject({ uid: 1000, gid: 1000, cwd: "/", timeout: 5000, killSignal: "SIGKILL", stdio: "ignore" });
    expect(plan.options.env).toEqual({
      DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus",
      XDG_RUNTIME_DIR: "/run/user/1000",
      HOME: "/home/alice",
      USER: "alice",
      LOGNAME: "alice",
      PATH: "/usr/local/bin:/usr/bin:/bin",
      LANG: "C.UTF-8",
    });
    expect(escapeMarkup("<a href='x'>")).toBe("&lt;a href='x'&gt;");
  });
});

/** A system where alice is logged in on two terminals and has a desktop; records what each channel was given. */
function fakeSystem(over: Partial<NotifyDeps> = {}) {
  const ttys: Array<{ path: string; uid: number; line: string }> = [];
  const desktops: Array<{ user: string; title: string; body: string }> = [];
  const deps: NotifyDeps = {
    lookupUser: async (name) => (name === "alice" ? { name, uid: 1000, gid: 1000, home: "/home/alice" } : null),
    who: async () => "alice pts/1 2026-11-27 07:00\nbob pts/2 2026-11-27 07:00\nalice pts/4 2026-11-27 07:00\n",
    writeTty: async (path, uid, line) => {
      if (path === "/dev/pts/4") return { written: false, skipped: "messages are off (mesg n)" };
      ttys.push({ path, uid, line });
      return { written: true };
    },
    desktop: async (user, title, body) => {
      desktops.push({ user: user.name, title, body });
      return { ok: true, detail: "exit 0" };
    },
    ...over,
  };
  return { deps, ttys, desktops };
}

describe("deliver", () => {
  it("writes to the user's terminals that accept messages and shows a desktop notification", async () => {
    const sys = fakeSystem();
    const m = messageFor(outcomeOf(approved(), NOW)!, NOW, "UTC");
    const d = await deliver(sys.deps, "alice", m);
    expect(d).toEqual({ user: "alice", terminals: 1, desktop: "shown", skipped: ["/dev/pts/4: messages are off (mesg n)"] });
    expect(sys.ttys).toEqual([{ path: "/dev/pts/1", uid: 1000, line: m.line }]);
    expect(sys.desktops).toEqual([{ user: "alice", title: m.title, body: m.body }]);
  });
  it("a user with no local account, a failing `who` and a failing desktop are reported, never thrown", async () => {
    const m = messageFor(outcomeOf(approved(), NOW)!, NOW, "UTC");
    expect((await deliver(fakeSystem().deps, "mallory", m)).skipped).toEqual(["no local account of that name"]);
    const broken = fakeSystem({ who: async () => Promise.reject(new Error("no who")), desktop: async () => Promise.reject(new Error("dbus down")) });
    expect(await deliver(broken.deps, "alice", m)).toEqual({ user: "alice", terminals: 0, desktop: "failed", skipped: ["desktop: dbus down"] });
    expect((await deliver(fakeSystem({ desktop: async () => null }).deps, "alice", m)).desktop).toBe("none");
  });
});

describe("UserNotifier.look", () => {
  it("remembers what it told in the state directory: a restarted daemon does not repeat it", async () => {
    const store = new StateStore(await makeTempDir());
    const sys = fakeSystem();
    const logger = pino({ level: "silent" });
    let now = NOW;
    const make = () => new UserNotifier({ store, logger, deps: sys.deps, timeZone: "UTC", now: () => now });
    await make().look([declined("old one", { id: "req_0" })]);
    expect(sys.ttys).toHaveLength(0);
    expect(await loadTold(store)).toMatchObject({ req_0: { keys: ["declined"] } });

    await make().look([approved()]);
    expect(sys.ttys.map((t) => t.line)).toEqual(["[JIT Access] Elevation approved: apt until 14:32. Approved by dana@example.com for 30 minutes: /usr/bin/apt may run elevated until 14:32."]);
    await make().look([approved()]);
    expect(sys.ttys).toHaveLength(1);
    now = new Date("2026-11-27T14:32:01Z");
    await make().look([approved()]);
    expect(sys.ttys.map((t) => /Elevation \w+/.exec(t.line)?.[0])).toEqual(["Elevation approved", "Elevation ended"]);
  });
});
