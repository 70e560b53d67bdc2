// `jit run -- COMMAND ARGS…`: the end user's way to run a command elevated. Asks the agent's daemon over its local
// socket (proving who is asking with a file the kernel owns for us), runs the command through `sudo` when allowed,
// and otherwise offers to request elevation and waits for the decision with a live status line.
import { spawn } from "node:child_process";
import { constants, promises as fs } from "node:fs";
import { connect, type Socket } from "node:net";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { describeDuration, DURATION_PATTERN } from "../core/duration";
import { DEFAULT_SOCKET } from "./enforce/settings";

const USAGE = `Usage: jit run [--socket PATH] [--duration 30m] [--reason TEXT] [--no-request] -- COMMAND [ARGS…]

Runs COMMAND as root through sudo when a JIT Access policy or an approved request allows it
now. When it is not allowed and requests are on, offers to ask for elevation (for how long and
why), waits for an approver with a live status line, then runs it. While it runs, the agent
ends it when the elevation ends (unless the agent is set to let it finish).

  --socket PATH    the agent's socket (default $JIT_AGENT_SOCKET, else ${DEFAULT_SOCKET})
  --duration 30m   when asking: for how long (asked on a terminal when missing)
  --reason TEXT    when asking: the justification (asked on a terminal when missing)
  --no-request     do not offer to ask; just say it is not allowed
  --timeout SEC    how long to wait for a decision (default 600)

Exit status: the command's own, 3 not allowed (or declined), 2 bad usage, 1 other error.`;

type Reply = Record<string, unknown> & { error?: string; message?: string };

/** One connection to the daemon: newline-delimited JSON, one answer per question, in order. */
class AgentConnection {
  private buffer = "";
  private waiting: ((r: Reply) => void)[] = [];
  private closed: Error | null = null;
  private constructor(private socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.buffer += d;
      let i: number;
      while ((i = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        const w = this.waiting.shift();
        try {
          w?.(JSON.parse(line) as Reply);
        } catch {
          w?.({ error: "bad_reply", message: "the agent's answer is not JSON" });
        }
      }
    });
    const fail = () => {
      this.closed = new Error("the agent closed the connection");
      for (const w of this.waiting.splice(0)) w({ error: "closed", message: this.closed.message });
    };
    socket.on("close", fail);
    socket.on("error", fail);
  }

  static open(path: string): Promise<AgentConnection> {
    return new Promise((res, rej) => {
      const s = connect(path);
      s.once("connect", () => res(new AgentConnection(s)));
      s.once("error", (e: NodeJS.ErrnoException) =>
        rej(new Error(e.code === "ENOENT" || e.code === "ECONNREFUSED" ? `the JIT Access agent is not running (no socket at ${path}); ask an administrator to start it (jit-agent install)` : `cannot reach the agent at ${path}: ${e.message}`)),
      );
    });
  }

  ask(req: Record<string, unknown>): Promise<Reply> {
    if (this.closed) return Promise.resolve({ error: "closed", message: this.closed.message });
    return new Promise((res) => {
      this.waiting.push(res);
      this.socket.write(JSON.stringify(req) + "\n");
    });
  }

  /** The kernel vouches for us: create the file the daemon named; it reads the owner the kernel gave it. */
  async identify(): Promise<{ user: string; uid: number }> {
    const hello = await this.ask({ op: "hello" });
    if (typeof hello.challenge !== "string") throw new Error(hello.message ?? "the agent did not send a challenge");
    const h = await fs.open(hello.challenge, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    await h.close();
    const r = await this.ask({ op: "proved" });
    if (r.error) throw new Error(r.message ?? r.error);
    return { user: String(r.user), uid: Number(r.uid) };
  }

  close(): void {
    this.socket.end();
  }
}

/** COMMAND as the shell would find it: a path as given (from the current folder), else the first hit on $PATH. */
async function findCommand(cmd: string): Promise<string | null> {
  const isExec = async (p: string) => {
    try {
      const st = await fs.stat(p);
      return st.isFile() && (st.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  };
  if (cmd.includes("/")) {
    const p = isAbsolute(cmd) ? cmd : resolve(cmd);
    return (await isExec(p)) ? p : null;
  }
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    if (await isExec(p)) return p;
  }
  return null;
}

const err = (s: string) => process.stderr.write(s + "\n");

function parse(argv: string[]): { opts: Record<string, string | boolean>; command: string[] } | { usage: string } {
  const opts: Record<string, string | boolean> = {};
  const withValue = new Set(["--socket", "--duration", "--reason", "--timeout"]);
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (a === "--help" || a === "-h") return { usage: "" };
    if (a === "--no-request") opts["no-request"] = true;
    else if (withValue.has(a)) {
      const v = argv[++i];
      if (v === undefined) return { usage: `option ${a} needs a value` };
      opts[a.slice(2)] = v;
    } else if (a.startsWith("-")) return { usage: `unknown option ${a}` };
    else break;
  }
  const command = argv.slice(i);
  if (command.length === 0) return { usage: "missing COMMAND" };
  return { opts, command };
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

function runThroughSudo(conn: AgentConnection, path: string, args: string[]): Promise<number> {
  return new Promise((res) => {
    const child = spawn("sudo", ["-n", "-u", "root", path, ...args], { stdio: "inherit" });
    child.once("spawn", () => {
      void conn.ask({ op: "track", pid: child.pid, path }).then((r) => {
        // A command that has already finished (and closed the connection) has nothing left to track.
        if (r.error && child.exitCode === null && child.signalCode === null) err(`jit: the agent could not track the command (${r.message ?? r.error})`);
      });
    });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on("SIGTERM", forward);
    process.on("SIGHUP", forward);
    child.once("error", (e) => {
      err(`jit: cannot run sudo: ${e.message}`);
      res(1);
    });
    child.once("exit", (code, signal) => {
      process.off("SIGTERM", forward);
      process.off("SIGHUP", forward);
      res(code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 1));
    });
  });
}

async function waitForDecision(conn: AgentConnection, id: string, timeoutS: number): Promise<Reply | null> {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let shown = false;
  try {
    while (Date.now() - started < timeoutS * 1000) {
      const secs = Math.round((Date.now() - started) / 1000);
      if (tty) process.stderr.write(`\r\x1b[KWaiting for an approver (request ${id})… ${secs} s`);
      else if (!shown) err(`Waiting for an approver (request ${id})…`);
      shown = true;
      const r = await conn.ask({ op: "status", id, wait: tty ? 1 : 25 });
      const view = r.request as { status?: string } | undefined;
      if (r.error === "unreachable") {
        await new Promise((x) => setTimeout(x, 1000));
        continue;
      }
      if (r.error) throw new Error(r.message ?? r.error);
      if (view?.status && view.status !== "pending") return r;
    }
    return null;
  } finally {
    if (tty) process.stderr.write("\r\x1b[K");
  }
}

async function runCommand(argv: string[]): Promise<number> {
  const p = parse(argv);
  if ("usage" in p) {
    if (p.usage) err(`jit run: ${p.usage}`);
    (p.usage ? err : (s: string) => process.stdout.write(s + "\n"))(USAGE);
    return p.usage ? 2 : 0;
  }
  const { opts, command } = p;
  const socketPath = typeof opts.socket === "string" ? opts.socket : process.env.JIT_AGENT_SOCKET?.trim() || DEFAULT_SOCKET;
  const timeoutS = typeof opts.timeout === "string" && /^\d+$/.test(opts.timeout) ? Number(opts.timeout) : 600;
  const found = await findCommand(command[0]!);
  if (!found) {
    err(`jit: ${command[0]}: command not found`);
    return 127;
  }
  const conn = await AgentConnection.open(socketPath);
  try {
    await conn.identify();
    let d = await conn.ask({ op: "check", path: found });
    if (d.error) throw new Error(d.message ?? d.error);
    if (!d.allowed) {
      err(`jit: not allowed: ${String(d.reason)}`);
      if (opts["no-request"] || !d.canRequest) return 3;
      let duration = typeof opts.duration === "string" ? opts.duration : "";
      let reason = typeof opts.reason === "string" ? opts.reason : "";
      if (!duration || !reason) {
        if (!process.stdin.isTTY) {
          err("jit: to ask for elevation, give --duration and --reason (or run it in a terminal to be asked)");
          return 3;
        }
        const max = typeof d.maxDuration === "string" ? d.maxDuration : null;
        const yes = await ask(`Ask for elevation of ${String(d.path)}? [y/N] `);
        if (!/^y(es)?$/i.test(yes)) return 3;
        while (!DURATION_PATTERN.test(duration)) duration = (await ask(`For how long (e.g. 30m, 2h${max ? `; at most ${describeDuration(max)}` : ""})? `)) || "30m";
        const min = typeof d.minJustificationLength === "number" ? d.minJustificationLength : 1;
        while (reason.length < Math.max(1, min)) reason = await ask(`Why do you need it (at least ${min} characters)? `);
      }
      const sent = await conn.ask({ op: "request", path: d.path, duration, reason });
      if (sent.error) throw new Error(sent.message ?? sent.error);
      if (sent.queued) {
        err(`jit: the server cannot be reached; your request is saved and will be sent when it is back. Run the command again once it is approved.`);
        return 3;
      }
      const req = sent.request as { id: string; status: string };
      let status = req.status;
      if (status === "pending") {
        const decided = await waitForDecision(conn, req.id, timeoutS);
        if (!decided) {
          err(`jit: no decision within ${timeoutS} s; request ${req.id} stays pending`);
          return 3;
        }
        status = String((decided.request as { status: string }).status);
      }
      if (status !== "approved") {
        err(`jit: request ${req.id} was ${status}`);
        return 3;
      }
      err(`jit: request ${req.id} approved`);
      d = await conn.ask({ op: "check", path: found });
      if (!d.allowed) {
        err(`jit: approved, but not allowed yet: ${String(d.reason)}`);
        return 3;
      }
    }
    return await runThroughSudo(conn, String(d.path), command.slice(1));
  } finally {
    conn.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "run") return runCommand(rest);
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(USAGE + "\n");
    return name === undefined ? 2 : 0;
  }
  err(`jit: unknown command ${JSON.stringify(name)}`);
  err(USAGE);
  return 2;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  err(`jit: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
