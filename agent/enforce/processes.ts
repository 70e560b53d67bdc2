// Processes on Linux, read from /proc: which `sudo` a `jit run` started (checked, never taken on the caller's word),
// whether it still runs (pid and start time, so a reused pid is never signalled), and ending it with its whole tree.
import { promises as fs } from "node:fs";
import { basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A process by pid and kernel start time (clock ticks since boot): together they name one process for good. */
export type ProcessRef = { pid: number; startTime: string };

type Stat = { pid: number; ppid: number; startTime: string };

async function readStat(pid: number): Promise<Stat | null> {
  try {
    const text = await fs.readFile(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold anything; the fields after the last ")" are fixed.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pid, ppid: Number(rest[1]), startTime: rest[19]! };
  } catch {
    return null;
  }
}

async function realUid(pid: number): Promise<number | null> {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(await fs.readFile(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export async function isAlive(p: ProcessRef): Promise<boolean> {
  const s = await readStat(p.pid);
  return s !== null && s.startTime === p.startTime;
}

/**
 * Checks that `pid` is a `sudo` running `path`, started by a process of `uid` (the caller `jit` itself). A caller
 * naming any other process (another user's, a root daemon) is refused: it could otherwise have it killed.
 */
export async function verifySudoChild(pid: number, uid: number, path: string): Promise<ProcessRef | { refused: string }> {
  if (!Number.isSafeInteger(pid) || pid <= 1) return { refused: "not a process id" };
  const st = await readStat(pid);
  if (!st) return { refused: `no process ${pid}` };
  let exe = "";
  try {
    exe = await fs.readlink(`/proc/${pid}/exe`);
  } catch {
    return { refused: `cannot read process ${pid}` };
  }
  if (basename(exe) !== "sudo") return { refused: `process ${pid} is not sudo` };
  let argv: string[] = [];
  try {
    argv = (await fs.readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
  } catch {
    return { refused: `cannot read process ${pid}` };
  }
  if (!argv.includes(path)) return { refused: `process ${pid} does not run ${path}` };
  if ((await realUid(st.ppid)) !== uid) return { refused: `process ${pid} was not started by you` };
  return { pid, startTime: st.startTime };
}

/** The process and every descendant, parents first. */
async function tree(root: ProcessRef): Promise<ProcessRef[]> {
  let names: string[] = [];
  try {
    names = await fs.readdir("/proc");
  } catch {
    return [root];
  }
  const children = new Map<number, Stat[]>();
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const s = await readStat(Number(n));
    if (!s) continue;
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const out: ProcessRef[] = [root];
  for (let i = 0; i < out.length; i++) for (const c of children.get(out[i]!.pid) ?? []) out.push({ pid: c.pid, startTime: c.startTime });
  return out;
}

async function signalAll(list: ProcessRef[], sig: NodeJS.Signals): Promise<void> {
  for (const p of list) {
    if (!(await isAlive(p))) continue;
    try {
      process.kill(p.pid, sig);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM to the process and its descendants; SIGKILL to whatever is left after `graceMs`. Returns which it took. */
export async function endProcessTree(root: ProcessRef, graceMs: number): Promise<"SIGTERM" | "SIGKILL" | "already gone"> {
  if (!(await isAlive(root))) return "already gone";
  const all = await tree(root);
  await signalAll(all, "SIGTERM");
  const deadline = Date.now() + graceMs;
  for (;;) {
    const alive = [];
    for (const p of all) if (await isAlive(p)) alive.push(p);
    if (alive.length === 0) return "SIGTERM";
    if (Date.now() >= deadline) {
      // Descendants started meanwhile are caught too.
      const again = (await isAlive(root)) ? await tree(root) : alive;
      await signalAll([...new Set([...again, ...alive])], "SIGKILL");
      return "SIGKILL";
    }
    await sleep(Math.min(100, Math.max(1, deadline - Date.now())));
  }
}
