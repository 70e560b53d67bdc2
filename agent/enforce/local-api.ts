// The daemon's local Unix socket, where an end user's `jit` asks (only the daemon, as root, writes the bundle and
// the sudo rights). One JSON object per line each way. Who is asking is learnt from the kernel, never from the
// message: Node has no SO_PEERCRED, so the daemon names a fresh random file in a root-owned sticky directory
// (mode 1733: anyone may create, nobody may list, nobody may remove another's file), the caller creates it, and
// the kernel sets its owner to the caller's uid. The daemon lstats it (a regular file with one link, so neither a
// symlink nor a hard link to someone else's file passes), reads the owner, and removes it.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname, join } from "node:path";

export type Caller = { uid: number; user: string };

export type LocalRequest = { op: string; [k: string]: unknown };
export type LocalHandler = (caller: Caller, req: LocalRequest, socket: Socket) => Promise<Record<string, unknown>>;

export const challengeDirFor = (socketPath: string) => join(dirname(socketPath), "challenges");

/** The account name of a uid, from the system's user database. */
export function userNameOf(uid: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("getent", ["passwd", String(uid)], { timeout: 5_000 }, (error, stdout) => {
      if (error) return resolve(null);
      const name = String(stdout).split(":")[0]?.trim();
      resolve(name ? name : null);
    });
  });
}

/** Makes the socket's folder (root's, 0755) and the challenge folder (root's, sticky, 1733), refusing a planted one. */
export async function prepareDirs(socketPath: string): Promise<void> {
  const dir = dirname(socketPath);
  const me = process.getuid?.() ?? 0;
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const st = await fs.lstat(dir);
  if (!st.isDirectory() || st.uid !== me || (st.mode & 0o022) !== 0) throw new Error(`${dir} must be a folder owned by uid ${me} that nobody else can write to`);
  const cdir = challengeDirFor(socketPath);
  await fs.mkdir(cdir, { mode: 0o1733 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "EEXIST") throw e;
  });
  const cst = await fs.lstat(cdir);
  if (!cst.isDirectory() || cst.uid !== me) throw new Error(`${cdir} must be a folder owned by uid ${me}`);
  await fs.chmod(cdir, 0o1733);
}

/** Reads the owner of the challenge file the caller was asked to create, then removes it. Null when it does not prove anything. */
export async function readChallenge(path: string, issuedAtMs: number): Promise<number | null> {
  let st;
  try {
    st = await fs.lstat(path);
  } catch {
    return null;
  }
  await fs.rm(path, { force: true }).catch(() => {});
  if (!st.isFile() || st.nlink !== 1) return null;
  // Made after we named it (a second's slack for coarse file-system clocks).
  if (st.ctimeMs < issuedAtMs - 1_000) return null;
  return st.uid;
}

export type LocalApi = { server: Server; close: () => Promise<void> };

export async function startLocalApi(socketPath: string, handler: LocalHandler, onError: (e: unknown) => void = () => {}): Promise<LocalApi> {
  await prepareDirs(socketPath);
  await fs.rm(socketPath, { force: true });
  const cdir = challengeDirFor(socketPath);
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    let buffer = "";
    let caller: Caller | null = null;
    let challenge: { path: string; issuedAt: number } | null = null;
    let queue = Promise.resolve();
    const send = (o: Record<string, unknown>) => {
      if (!socket.destroyed) socket.write(JSON.stringify(o) + "\n");
    };
    const handle = async (line: string) => {
      let req: LocalRequest;
      try {
        req = JSON.parse(line) as LocalRequest;
        if (typeof req !== "object" || req === null || typeof req.op !== "string") throw new Error("no op");
      } catch {
        send({ error: "bad_request", message: "each line must be a JSON object with an op" });
        return;
      }
      if (req.op === "hello") {
        const name = randomBytes(16).toString("hex");
        challenge = { path: join(cdir, name), issuedAt: Date.now() };
        send({ challenge: challenge.path });
        return;
      }
      if (req.op === "proved") {
        if (!challenge) return send({ error: "no_challenge", message: "say hello first" });
        const c = challenge;
        challenge = null;
        const uid = await readChallenge(c.path, c.issuedAt);
        if (uid === null) return send({ error: "unproven", message: "the challenge file was not created as asked" });
        const user = await userNameOf(uid);
        if (!user) return send({ error: "unknown_user", message: `uid ${uid} has no account name` });
        caller = { uid, user };
        return send({ ok: true, uid, user });
      }
      if (!caller) return send({ error: "unidentified", message: "prove who you are first (hello, then proved)" });
      try {
        send(await handler(caller, req, socket));
      } catch (e) {
        onError(e);
        send({ error: "internal", message: e instanceof Error ? e.message : String(e) });
      }
    };
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      buffer += d;
      if (buffer.length > 1_000_000) return socket.destroy();
      let i: number;
      while ((i = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        queue = queue.then(() => handle(line)).catch(onError);
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  // Anyone may connect and ask; what they may do is decided per caller.
  await fs.chmod(socketPath, 0o666);
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
        fs.rm(socketPath, { force: true }).catch(() => {});
      }),
  };
}
