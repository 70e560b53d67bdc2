// Telling end users on a real pseudo-terminal: the tty writer against a pty held open by a child process (any user,
// Linux), and, as root, the daemon end to end: a real server, a real `jit-agent run` that finds the user's terminal in
// a utmp file (read by the real `who`), and approvals, a decline and a revoke made through the console API.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, setUpOwner, startTestServer, TEST_DB, TEST_OWNER, type TestServer } from "../server/test-support";
import { agentRequestView } from "./request-view.test-support";
import { deliver, messageFor, outcomeOf, systemDeps } from "./notify-user";
import { notifySendCommand, runPlan, writeToTty } from "./notify-user-writers";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OWNER = TEST_OWNER;
const uid = process.getuid?.() ?? -1;
const isRoot = uid === 0;
const hasPython = process.platform === "linux" && spawnSync("python3", ["-c", "import pty"], { stdio: "ignore" }).status === 0;
if (!hasPython) console.warn("SKIPPED tty notification tests: they need Linux and python3 (to hold a pseudo-terminal open)");
if (hasPython && !isRoot) console.warn("SKIPPED the daemon's user notifications end to end: the daemon notifies only as root");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(50);
  }
}

/** A pseudo-terminal held open by a python3 child; everything written to it is collected from the master side. */
type Pty = { path: string; received: () => string; close: () => Promise<void> };
const PTY_HOLDER = `
import os, pty, sys, select
m, s = pty.openpty()
print(os.ttyname(s), flush=True)
while True:
    r, _, _ = select.select([m, 0], [], [])
    if m in r:
        try:
            data = os.read(m, 65536)
        except OSError:
            break
        sys.stdout.write(data.hex() + "\\n"); sys.stdout.flush()
    if 0 in r and not os.read(0, 1024):
        break
`;
async function openPty(): Promise<Pty> {
  const p: ChildProcess = spawn("python3", ["-c", PTY_HOLDER], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const path = await until(() => (out.includes("\n") ? out.split("\n")[0]!.trim() : null), 10_000);
  const received = () =>
    Buffer.concat(
      out
        .split("\n")
        .slice(1)
        .filter((l) => /^[0-9a-f]+$/.test(l))
        .map((l) => Buffer.from(l, "hex")),
    ).toString("utf8");
  const close = async () => {
    const exited = new Promise((r) => p.once("exit", r));
    p.stdin!.end();
    await Promise.race([exited, sleep(3_000)]);
    if (p.exitCode === null) p.kill("SIGKILL");
  };
  return { path, received, close };
}

describe.skipIf(!hasPython)("the terminal writer on a real pseudo-terminal", () => {
  let pty: Pty;
  let dir: string;
  beforeAll(async () => {
    pty = await openPty();
    dir = mkdtempSync(join(tmpdir(), "jit-notify-"));
  });
  afterAll(async () => {
    await pty?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes one line to a terminal of the user's that accepts messages", async () => {
    chmodSync(pty.path, 0o620); // mesg y
    expect(await writeToTty(pty.path, uid, "[JIT Access] hello there")).toEqual({ written: true });
    await until(() => pty.received().includes("[JIT Access] hello there"));
  });

  it("respects mesg n, another user's terminal, and any path that is not a terminal's", async () => {
    const before = pty.received().length;
    chmodSync(pty.path, 0o600); // mesg n
    expect(await writeToTty(pty.path, uid, "not this")).toEqual({ written: false, skipped: "messages are off (mesg n)" });
    chmodSync(pty.path, 0o620);
    expect(await writeToTty(pty.path, uid + 1, "nor this")).toEqual({ written: false, skipped: "owned by another user" });
    const link = join(dir, "tty-link");
    symlinkSync(pty.path, link);
    expect(await writeToTty(link, uid, "nor this")).toMatchObject({ written: false, skipped: "not a terminal path" });
    expect(await writeToTty("/dev/pts/../null", uid, "nor this")).toMatchObject({ written: false });
    expect(await writeToTty("/dev/pts/999999", uid, "nor this")).toEqual({ written: false, skipped: "ENOENT" });
    await sleep(200);
    expect(pty.received().length).toBe(before);
  });

  it("a decline reason with escape sequences arrives as plain text, found through `who` reading a utmp file", async () => {
    const name = (spawnSync("id", ["-un"]).stdout ?? "").toString().trim();
    const utmp = join(dir, "utmp");
    writeFileSync(utmp, utmpRecord(name, pty.path.replace(/^\/dev\//, "")));
    const deps = { ...systemDeps({ utmp }), desktop: async () => null };
    const now = new Date();
    const o = outcomeOf(
      {
        ...baseView(name),
        status: "declined",
        decidedAt: now.toISOString(),
        decidedBy: { type: "user", id: "u", name: "dana" },
        declineReason: "\x1b]0;owned\x07\x1b[2J\x1b[1;31mno\x1b[0m\r\nroot# rm -rf /",
      },
      now,
    )!;
    const d = await deliver(deps, name, messageFor(o, now));
    expect(d.terminals).toBe(1);
    const got = await until(() => {
      const r = pty.received();
      return r.includes("Elevation declined") && r.includes("rm -rf /") ? r : null;
    });
    const line = got.slice(got.indexOf("[JIT Access] Elevation declined"));
    expect(line).toContain("Declined by dana: no root# rm -rf /");
    expect(line.trimEnd()).not.toMatch(/[\x00-\x1f\x7f\x9b]/);
  });
});

// notify-send is not installed on the test machines: the desktop path is checked by its command (unit test) and here
// by running that command, with a stand-in program in notify-send's place, as another user.
describe.skipIf(process.platform !== "linux" || !isRoot)("the desktop notification command, as root", () => {
  it("runs as the user (their uid and gid, none of root's groups) with only the session's environment and the text as arguments", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jit-notify-send-"));
    try {
      chmodSync(dir, 0o777);
      const stub = join(dir, "notify-send");
      const out = join(dir, "out.txt");
      writeFileSync(stub, `#!/bin/sh\n{ id -u; id -G; printf '%s\\n' "$@"; env | sort; } > ${out}\n`);
      chmodSync(stub, 0o755);
      const plan = notifySendCommand(stub, { name: "nobody", uid: 65534, gid: 65534, home: "/nonexistent" }, "/run/user/65534/bus", "Elevation approved: apt until 14:32", "Approved by <b>dana</b>");
      expect(await runPlan(plan)).toEqual({ ok: true, detail: "exit 0" });
      const lines = readFileSync(out, "utf8").split("\n");
      expect(lines.slice(0, 7)).toEqual(["65534", "65534", "--app-name=JIT Access", "--urgency=normal", "--", "Elevation approved: apt until 14:32", "Approved by &lt;b&gt;dana&lt;/b&gt;"]);
      expect(lines).toContain("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/65534/bus");
      expect(lines.some((l) => l.startsWith("JIT_") || l.startsWith("NODE_"))).toBe(false);
      // A program that hangs is killed at the timeout.
      writeFileSync(stub, "#!/bin/sh\nsleep 30\n");
      const started = Date.now();
      expect(await runPlan({ ...plan, options: { ...plan.options, timeout: 300 } })).toEqual({ ok: false, detail: "killed by SIGKILL" });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** One USER_PROCESS record of glibc's struct utmp (384 bytes on x86-64 and arm64), for `who FILE`. */
function utmpRecord(user: string, line: string): Buffer {
  const b = Buffer.alloc(384);
  b.writeInt16LE(7, 0);
  b.writeInt32LE(process.pid, 4);
  b.write(line, 8, 32, "utf8");
  b.write(line.slice(-4), 40, 4, "utf8");
  b.write(user, 44, 32, "utf8");
  b.writeInt32LE(Math.floor(Date.now() / 1000), 340);
  return b;
}

const baseView = (user: string) => agentRequestView({ id: "req_int", computer: { id: "cmp", name: "build-01" }, user, justification: "x", createdAt: new Date().toISOString(), waitingSince: new Date().toISOString() });

type Run = { code: number | null; stdout: string; stderr: string };
function agent(args: string[], stateDir: string): Promise<Run> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(ROOT, "bin", "jit-agent.mjs"), ...args, "--state-dir", stateDir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.once("error", rej);
    p.once("exit", (code) => res({ code, stdout, stderr }));
  });
}

describe.skipIf(!hasPython || !isRoot)(`the daemon tells the requester on their terminal, on ${TEST_DB}`, () => {
  let srv: TestServer;
  let owner: ReturnType<typeof apiClient>;
  let dir: string;
  let state: string;
  let tool: string;
  let utmp: string;
  let pty: Pty;
  const daemons = new Set<ChildProcess>();

  function startDaemon(): { proc: ChildProcess; log: () => string } {
    const proc = spawn(process.execPath, [join(ROOT, "bin", "jit-agent.mjs"), "run", "--wait", "25", "--notify-poll", "2", "--utmp", utmp, "--state-dir", state], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    proc.stdout!.on("data", (d: Buffer) => (log += d.toString()));
    proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    daemons.add(proc);
    proc.once("exit", () => daemons.delete(proc));
    return { proc, log: () => log };
  }
  async function stopDaemon(proc: ChildProcess): Promise<void> {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await Promise.race([exited, sleep(10_000)]);
  }
  const request = async (reason: string) => {
    const r = await agent(["request", "--user", "root", "--path", tool, "--duration", "30m", "--reason", reason, "--json"], state);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { id: string; status: string };
  };

  beforeAll(async () => {
    srv = await startTestServer();
    owner = (await setUpOwner(srv.url)).client;
    dir = mkdtempSync(join(tmpdir(), "jit-notify-daemon-"));
    state = join(dir, "state");
    tool = join(dir, "deploy-tool");
    writeFileSync(tool, "#!/bin/sh\necho deploy\n");
    chmodSync(tool, 0o755);
    const { token } = await owner.computers.createEnrollmentToken.mutate();
    const e = await agent(["enroll", "--server", srv.url, "--token", token, "--name", "desk-01"], state);
    expect(e.code, e.stderr).toBe(0);
    pty = await openPty();
    chmodSync(pty.path, 0o620);
    utmp = join(dir, "utmp");
    writeFileSync(utmp, utmpRecord("root", pty.path.replace(/^\/dev\//, "")));
  });
  afterAll(async () => {
    for (const d of daemons) await stopDaemon(d);
    await pty?.close();
    await srv?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("approved, declined (sanitized) and revoked each reach the terminal once, and not again after a restart", async () => {
    // A decision made before the daemon first looked is history, not news.
    const old = await request("an old request");
    await owner.requests.decline.mutate({ id: old.id, reason: "old news" });

    const d1 = startDaemon();
    await until(() => d1.log().includes('"event":"notify_user","on":true'));
    await until(() => existsSync(join(state, "notify-user.json")));

    const a = await request("deploy the hotfix now");
    await owner.requests.approve.mutate({ id: a.id, duration: "15m" });
    await until(() => pty.received().includes("Elevation approved: deploy-tool until"));
    expect(pty.received()).toContain(`Approved by ${OWNER.email} for 15 minutes: ${tool} may run elevated until`);

    const b = await request("rotate the keys");
    await owner.requests.decline.mutate({ id: b.id, reason: "\x1b[2J\x1b]0;pwned\x07not today\nuse staging" });
    await until(() => pty.received().includes("Elevation declined: deploy-tool"));
    expect(pty.received()).toContain(`Declined by ${OWNER.email}: not today use staging`);
    expect(pty.received()).not.toContain("\x1b");

    await owner.requests.revoke.mutate({ id: a.id });
    await until(() => pty.received().includes("Elevation ended: deploy-tool"));
    expect(pty.received()).not.toContain("old news");

    const log = d1.log();
    expect(log).toContain(`"event":"user_notified","requestId":"${a.id}","outcome":"approved","user":"root","terminals":1,"desktop":"none"`);
    expect(log).not.toContain("use staging"); // no server text in the log

    const told = pty.received().length;
    await stopDaemon(d1.proc);
    const d2 = startDaemon();
    await until(() => d2.log().includes('"event":"notify_user","on":true'));
    await sleep(3_000); // more than one --notify-poll round
    expect(pty.received().length).toBe(told);
    expect(d2.log()).not.toContain("user_notified");
    expect(Object.keys(JSON.parse(readFileSync(join(state, "notify-user.json"), "utf8")).told).sort()).toEqual([a.id, b.id, old.id].sort());
    await stopDaemon(d2.proc);
  });

  it("--no-notify-user turns it off", async () => {
    const off = spawn(process.execPath, [join(ROOT, "bin", "jit-agent.mjs"), "run", "--no-notify-user", "--state-dir", state], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    off.stdout.on("data", (x: Buffer) => (log += x.toString()));
    daemons.add(off);
    await until(() => log.includes('"event":"notify_user"'));
    expect(log).toContain('"on":false,"reason":"turned off with --no-notify-user"');
    await stopDaemon(off);
  });
});
