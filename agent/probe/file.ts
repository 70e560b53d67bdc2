// The file probe: what an executable really is. Resolves the real path (symlinks and ".." followed as the kernel
// does) and streams its SHA-256, reading the very file it checked is regular (one open descriptor, no re-open).
import { createHash } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import { isAbsolute } from "node:path";
import { pipeline } from "node:stream/promises";

export type FileProbe = { ok: true; path: string; sha256: string; size: number; md5?: string; statKey?: string } | { ok: false; path: string; reason: string };

function describeErrno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "does not exist";
    case "EACCES":
    case "EPERM":
      return "cannot be read (permission denied)";
    case "ENOTDIR":
      return "does not exist (a parent is not a folder)";
    case "ELOOP":
      return "is a symbolic link loop";
    default:
      return `cannot be read (${code ?? (e as Error).message})`;
  }
}

/** With `md5`, the MD5 digest (what a Debian package's md5sums records) is computed in the same single read. */
export async function probeFile(given: string, cwd: string = process.cwd(), opts: { md5?: boolean } = {}): Promise<FileProbe> {
  // Not path.resolve(): it folds "a/link/../x" to "a/x" by text, while the kernel (and so exec) follows "link"
  // first and then goes up from its target. realpath(3) resolves the way the kernel does, so it gets the raw path.
  const absolute = isAbsolute(given) ? given : `${cwd.replace(/\/+$/, "")}/${given}`;
  let real: string;
  try {
    real = await fs.realpath(absolute);
  } catch (e) {
    return { ok: false, path: absolute, reason: `${absolute} ${describeErrno(e)}` };
  }
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK so that a FIFO or device does not hang the open; it changes nothing for a regular file.
    handle = await fs.open(real, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return { ok: false, path: real, reason: `${real} ${describeErrno(e)}` };
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (!st.isFile()) return { ok: false, path: real, reason: `${real} is not a regular file` };
    const hash = createHash("sha256");
    const md5 = opts.md5 ? createHash("md5") : null;
    await pipeline(handle.createReadStream({ autoClose: false }), async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        md5?.update(chunk);
      }
    });
        // What the probe cache keys on, from the very descriptor that was hashed: a replaced or touched file differs.
    const statKey = [real, st.size, st.mtimeNs, st.ctimeNs, st.ino, st.dev].join("\0");
    return { ok: true, path: real, sha256: hash.digest("hex"), size: Number(st.size), ...(md5 ? { md5: md5.digest("hex"), statKey } : {}) };
  } catch (e) {
    return { ok: false, path: real, reason: `${real} ${describeErrno(e)}` };
  } finally {
    await handle.close().catch(() => {});
  }
}
