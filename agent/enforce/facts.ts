// What the sudo renderer needs from the disk: the concrete executables the bundle's rules can mean, identified.
// File Hash → the executables in the system's command folders (and any path `jit run` asked about);
// Verified Executable → that path (or name in the command folders), fully probed; Folder Path → the executables in
// the tree; Vendor and Products → the executables of the matching installed Debian packages (dpkg file lists).
// Hashes are cached by (path, size, mtime, ctime, inode, device), in memory and in the state directory.
import { createHash } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { AppRule } from "../../core/app-rule";
import type { Bundle } from "../../core/bundle";
import { versionInRange } from "../../core/debian-version";
import { isWindowsPath, normalizeAbsolutePath } from "../../core/paths";
import { runDpkgQuery, vendorOf, type DpkgQuery } from "../probe/dpkg";
import { probeIdentity } from "../probe/identity";
import { readJsonFile, writeFileAtomic } from "../state";
import { bundleRules, type Executable } from "./sudoers";

export const DEFAULT_COMMAND_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const MAX_TREE_FILES = 5_000;
const MAX_TREE_DEPTH = 8;
/** Bigger files are not hashed for a File Hash search (a rule for one names it by a path `jit run` asked about). */
const MAX_SCAN_BYTES = 256 * 1024 * 1024;

type HashEntry = { key: string; sha256: string };

/** SHA-256 by file identity, so a restart or a re-render does not rehash an unchanged file. */
export class HashCache {
  private map = new Map<string, string>();
  private dirty = false;
  constructor(readonly file: string | null) {}

  async load(): Promise<void> {
    if (!this.file) return;
    const raw = (await readJsonFile(this.file).catch(() => undefined)) as { entries?: HashEntry[] } | undefined;
    for (const e of raw?.entries ?? []) if (typeof e?.key === "string" && /^[0-9a-f]{64}$/.test(e.sha256)) this.map.set(e.key, e.sha256);
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify({ entries: [...this.map].map(([key, sha256]) => ({ key, sha256 })) }) + "\n");
    this.dirty = false;
  }

  /** The file's real path and SHA-256 when it is a regular executable file; null otherwise. */
  async hash(path: string, maxBytes = Infinity): Promise<{ path: string; sha256: string } | null> {
    let real: string;
    let handle: fs.FileHandle;
    try {
      real = await fs.realpath(path);
      handle = await fs.open(real, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return null;
    }
    try {
      const st = await handle.stat({ bigint: true });
      if (!st.isFile() || (Number(st.mode) & 0o111) === 0 || st.size > BigInt(Math.min(maxBytes, Number.MAX_SAFE_INTEGER))) return null;
      const key = [real, st.size, st.mtimeNs, st.ctimeNs, st.ino, st.dev].join(":");
      const known = this.map.get(key);
      if (known) return { path: real, sha256: known };
      const h = createHash("sha256");
      await pipeline(handle.createReadStream({ autoClose: false }), async function* (src: AsyncIterable<Buffer>) {
        for await (const chunk of src) h.update(chunk);
      });
      const sha256 = h.digest("hex");
      this.map.set(key, sha256);
      this.dirty = true;
      return { path: real, sha256 };
    } catch {
      return null;
    } finally {
      await handle.close().catch(() => {});
    }
  }
}

async function filesIn(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

async function walk(dir: string, depth: number, out: string[]): Promise<void> {
  if (depth > MAX_TREE_DEPTH || out.length >= MAX_TREE_FILES) return;
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (out.length >= MAX_TREE_FILES) return;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, depth + 1, out);
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
}

type InstalledPackage = { name: string; version: string; vendor: string | null };

async function installedPackages(query: DpkgQuery): Promise<InstalledPackage[]> {
  const r = await query(["-W", "-f", "${Package}\\t${Version}\\t${Maintainer}\\t${Origin}\\t${Vendor}\\t${db:Status-Abbrev}\\n"]);
  if (r.code !== 0) return [];
  const out: InstalledPackage[] = [];
  for (const line of r.stdout.split("\n")) {
    const [name, version, maintainer, origin, vendor, status] = line.split("\t");
    if (!name || !version || !status?.startsWith("ii")) continue;
    out.push({ name: name.split(":")[0]!, version, vendor: vendorOf({ maintainer, origin, vendor }) });
  }
  return out;
}

export type CollectOptions = {
  cache: HashCache;
  /** Paths `jit run` asked about: candidates for File Hash rules wherever they are. */
  extraPaths?: Iterable<string>;
  commandDirs?: string[];
  query?: DpkgQuery;
};

/** Finds and identifies every executable the bundle's rules could mean. Never throws: what it cannot read it skips. */
export async function collectExecutables(bundle: Bundle | null, opts: CollectOptions): Promise<{ executables: Executable[]; notes: string[] }> {
  const rules = bundleRules(bundle);
  const dirs = opts.commandDirs ?? DEFAULT_COMMAND_DIRS;
  const query = opts.query ?? runDpkgQuery;
  const notes: string[] = [];
  const found = new Map<string, Executable>();
  const put = (x: Executable) => found.set(x.path, { ...found.get(x.path), ...Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined && v !== null)), path: x.path, sha256: x.sha256 } as Executable);
  const hashOnly = async (p: string, extra: Partial<Executable> = {}, maxBytes = Infinity) => {
    const h = await opts.cache.hash(p, maxBytes);
    if (h) put({ ...extra, path: h.path, sha256: h.sha256 });
  };
  const probeFull = async (p: string) => {
    const r = await probeIdentity(p);
    if (r.ok && r.app.sha256) put(r.app as Executable);
  };
  const has = (t: AppRule["type"]) => rules.some((r) => r.type === t);

  if (has("fileHash")) for (const d of dirs) for (const p of await filesIn(d)) await hashOnly(p, {}, MAX_SCAN_BYTES);
  for (const p of opts.extraPaths ?? []) await probeFull(p);
  for (const r of rules) {
    if (r.type === "verifiedExecutable") {
      if (r.path.includes("/")) await probeFull(r.path);
      else for (const d of dirs) await probeFull(join(d, r.path));
    } else if (r.type === "folderPath" && !isWindowsPath(r.path)) {
      const root = normalizeAbsolutePath(r.path);
      if (root === null || root === "/") continue;
      const files: string[] = [];
      await walk(root, 0, files);
      if (files.length >= MAX_TREE_FILES) notes.push(`${root} holds more than ${MAX_TREE_FILES} files; only the first were looked at`);
      for (const p of files) await hashOnly(p);
    }
  }
  const pkgRules = rules.filter((r) => r.type === "vendor" || r.type === "product");
  if (pkgRules.length > 0) {
    try {
      for (const pkg of await installedPackages(query)) {
        const match = pkgRules.some((r) =>
          r.type === "vendor"
            ? pkg.vendor !== null && pkg.vendor.trim().toLowerCase() === r.vendor.trim().toLowerCase()
            : r.type === "product" && pkg.name.toLowerCase() === r.product.trim().toLowerCase() && (!r.versions?.trim() || versionInRange(pkg.version, r.versions).matched),
        );
        if (!match) continue;
        const list = await query(["-L", pkg.name]);
        if (list.code !== 0) continue;
        for (const p of list.stdout.split("\n")) {
          if (!p.startsWith("/") || p.startsWith("/usr/share/") || p.startsWith("/etc/")) continue;
          await hashOnly(p, { packageName: pkg.name, packageVersion: pkg.version, vendor: pkg.vendor });
        }
      }
    } catch (e) {
      notes.push(`the package database could not be read: ${(e as Error).message}`);
    }
  }
  await opts.cache.save().catch(() => {});
  return { executables: [...found.values()].sort((a, b) => a.path.localeCompare(b.path)), notes };
}
