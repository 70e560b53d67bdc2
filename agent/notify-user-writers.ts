// How the daemon reaches an end user on this computer: a line on each of their terminals (as `write` does) and a
// desktop notification through `notify-send` in their D-Bus session. Root runs these for someone else, so each one
// checks what it is about to touch (a tty the user owns and has not closed with `mesg n`; a bus socket the user owns),
// runs the user's program as the user, and gives up after a few seconds rather than wait.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { constants as FS, promises as fs } from "node:fs";

/** An account on this computer, from the system's user database. */
export type LocalUser = { name: string; uid: number; gid: number; home: string };

/** Account names we look up: what useradd accepts (and never a leading '-', which a program could read as an option). */
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}\$?$/;

/** The first of these that exists is used; the daemon runs as root and does not search a PATH it did not choose. */
export const NOTIFY_SEND_PATHS = ["/usr/bin/notify-send", "/usr/local/bin/notify-send", "/bin/notify-send"];

const TTY_TIMEOUT_MS = 2_000;
const DESKTOP_TIMEOUT_MS = 5_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** `getent passwd NAME`; null for a name that is not a local account (or not a name we would pass on). */
export function lookupUser(name: string): Promise<LocalUser | null> {
  if (!USER_NAME.test(name)) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile("getent", ["passwd", name], { timeout: 5_000 }, (error, stdout) => {
      if (error) return resolve(null);
      const f = String(stdout).split("\n")[0]?.split(":") ?? [];
      const uid = Number(f[2]);
      const gid = Number(f[3]);
      if (f[0] !== name || !Number.isInteger(uid) || !Number.isInteger(gid) || f.length < 7) return resolve(null);
      resolve({ name, uid, gid, home: f[5] || "/" });
    });
  });
}

/** The text of `who` (the login records in utmp; `file` reads another utmp file). Empty when it cannot run. */
export function runWho(file?: string): Promise<string> {
  return new Promise((resolve) => {
    execFile("who", file ? [file] : [], { timeout: 3_000, env: { ...process.env, LC_ALL: "C" } }, (error, stdout) => resolve(error ? "" : String(stdout)));
  });
}

/** A terminal device we are willing to open: a pseudo-terminal, a virtual console or a serial line, by its plain path. */
export const TTY_PATH = /^\/dev\/(?:pts\/\d{1,7}|tty\d{1,3}|ttyS\d{1,3})$/;

export type WriteResult = { written: true } | { written: false; skipped: string };

/**
 * Writes `line` to the terminal at `path` when it is a character device owned by `uid` that accepts messages
 * (`mesg y`: the group-write bit, as `write` and `wall` read it). Opened write-only, without becoming our
 * controlling terminal, without waiting (a full terminal drops the line), never through a symlink; the checks are
 * made again on the opened file, so a path swapped between the look and the open is caught.
 */
export async function writeToTty(path: string, uid: number, line: string): Promise<WriteResult> {
  if (!TTY_PATH.test(path)) return { written: false, skipped: "not a terminal path" };
  const check = (st: { isCharacterDevice(): boolean; uid: number; mode: number }): string | null => {
    if (!st.isCharacterDevice()) return "not a character device";
    if (st.uid !== uid) return "owned by another user";
    if ((st.mode & 0o020) === 0) return "messages are off (mesg n)";
    return null;
  };
  let pre;
  try {
    pre = await fs.lstat(path);
  } catch (e) {
    return { written: false, skipped: (e as NodeJS.ErrnoException).code ?? "cannot stat" };
  }
  const before = check(pre);
  if (before) return { written: false, skipped: before };
  return withTimeout(
    (async (): Promise<WriteResult> => {
      let handle: fs.FileHandle | undefined;
      try {
        handle = await fs.open(path, FS.O_WRONLY | FS.O_NOCTTY | FS.O_NONBLOCK | FS.O_NOFOLLOW);
        const after = check(await handle.stat());
        if (after) return { written: false, skipped: after };
        await handle.write(Buffer.from(`\r\n${line}\r\n`, "utf8"));
        return { written: true };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return { written: false, skipped: code === "EAGAIN" ? "the terminal is not reading" : (code ?? (e as Error).message) };
      } finally {
        await handle?.close().catch(() => {});
      }
    })(),
    TTY_TIMEOUT_MS,
    `writing to ${path}`,
  ).catch((e: Error) => ({ written: false, skipped: e.message }) as const);
}

/** The user's D-Bus session bus, when they have one: /run/user/<uid>/bus, a socket of theirs. */
export async function sessionBusOf(uid: number, runtimeRoot = "/run/user"): Promise<string | null> {
  const path = `${runtimeRoot}/${uid}/bus`;
  try {
    const st = await fs.lstat(path);
    return st.isSocket() && st.uid === uid ? path : null;
  } catch {
    return null;
  }
}

export async function findNotifySend(candidates = NOTIFY_SEND_PATHS): Promise<string | null> {
  for (const p of candidates) {
    try {
      await fs.access(p, FS.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

/** Escapes what a notification server may read as markup in the body (many accept a subset of HTML there). */
export const escapeMarkup = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export type SpawnPlan = {
  file: string;
  args: string[];
  options: { uid: number; gid: number; cwd: string; env: Record<string, string>; timeout: number; killSignal: NodeJS.Signals; stdio: "ignore" };
};

/**
 * `notify-send` as the user, into their session bus. Title and body come already sanitized; `--` keeps a title
 * beginning with '-' from being read as an option. Node drops root's supplementary groups when it sets uid and gid.
 */
export function notifySendCommand(notifySend: string, user: LocalUser, bus: string, title: string, body: string): SpawnPlan {
  return {
    file: notifySend,
    args: ["--app-name=JIT Access", "--urgency=normal", "--", title, escapeMarkup(body)],
    options: {
      uid: user.uid,
      gid: user.gid,
      cwd: "/",
      env: {
        DBUS_SESSION_BUS_ADDRESS: `unix:path=${bus}`,
        XDG_RUNTIME_DIR: bus.slice(0, bus.lastIndexOf("/")),
        HOME: user.home,
        USER: user.name,
        LOGNAME: user.name,
        PATH: "/usr/local/bin:/usr/bin:/bin",
        LANG: "C.UTF-8",
      },
      timeout: DESKTOP_TIMEOUT_MS,
      killSignal: "SIGKILL",
      stdio: "ignore",
    },
  };
}

/** Runs a planned command; resolves (never rejects) with whether it exited 0. */
export function runPlan(plan: SpawnPlan): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(plan.file, plan.args, { ...plan.options, env: plan.options.env as NodeJS.ProcessEnv });
    } catch (e) {
      return resolve({ ok: false, detail: (e as Error).message });
    }
    child.once("error", (e) => resolve({ ok: false, detail: e.message }));
    child.once("exit", (code, signal) => resolve({ ok: code === 0, detail: signal ? `killed by ${signal}` : `exit ${code}` }));
  });
}
