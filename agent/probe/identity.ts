// The app identity probe: what an executable is, before the agent decides. Real path and SHA-256 (file.ts), the
// Debian package that owns it, its version and vendor, and whether the file is the package's own, untouched copy.
// Cached by (path, size, mtime, ctime, inode) on disk, so a repeated check does not rehash or ask dpkg again.
import { promises as fs } from "node:fs";
import { isAbsolute } from "node:path";
import { z } from "zod";
import type { AppIdentity } from "../../core/decide";
import { writeFileAtomic } from "../state";
import { lookupPackage, runDpkgQuery, type DpkgQuery } from "./dpkg";
import { probeFile } from "./file";

export type ProbedIdentity = {
  /** What decide() gets. */
  app: AppIdentity;
  /** The file could be read and hashed. A file that could not is never elevated. */
  ok: boolean;
  /** What the probe could not learn, and why: shown by check --explain. */
  notes: string[];
  /** Served from the cache (no rehash). */
  cached: boolean;
};

const CacheEntrySchema = z.object({
  key: z.string(),
  app: z.object({
    path: z.string(),
    sha256: z.string().nullable(),
    packageName: z.string().nullable(),
    packageVersion: z.string().nullable(),
    vendor: z.string().nullable(),
    verified: z.boolean().nullable(),
  }),
  notes: z.array(z.string()),
});
type CacheEntry = z.infer<typeof CacheEntrySchema>;
const CacheFileSchema = z.object({ version: z.literal(1), entries: z.array(CacheEntrySchema) });
const MAX_ENTRIES = 2000;

/** The probe cache: in memory, and in a file when given one (the agent's state directory). */
export class ProbeCache {
  private entries = new Map<string, CacheEntry>();
  private loaded = false;
  constructor(private readonly file: string | null) {}

  private async load(): Promise<void> {
    if (this.loaded || !this.file) return;
    this.loaded = true;
    try {
      const parsed = CacheFileSchema.safeParse(JSON.parse(await fs.readFile(this.file, "utf8")));
      if (parsed.success) for (const e of parsed.data.entries) this.entries.set(e.key, e);
    } catch {
      // Missing or unreadable: start empty. A cache is never a source of trust beyond its key.
    }
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    await this.load();
    return this.entries.get(key);
  }

  async set(entry: CacheEntry): Promise<void> {
    await this.load();
    this.entries.delete(entry.key);
    this.entries.set(entry.key, entry);
    while (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    if (this.file) {
      await writeFileAtomic(this.file, JSON.stringify({ version: 1, entries: [...this.entries.values()] })).catch(() => {});
    }
  }
}

export type ProbeOptions = { cwd?: string; cache?: ProbeCache; query?: DpkgQuery; clsid?: string | null };

/** Probes the executable at `given`. Never throws for a bad file: it says what it could not learn. */
export async function probeIdentity(given: string, opts: ProbeOptions = {}): Promise<ProbedIdentity> {
  const cwd = opts.cwd ?? process.cwd();
  const clsid = opts.clsid ?? null;
  const absolute = isAbsolute(given) ? given : `${cwd.replace(/\/+$/, "")}/${given}`;
  let cacheKey: string | null = null;
  try {
    const real = await fs.realpath(absolute);
    const st = await fs.stat(real, { bigint: true });
    if (st.isFile()) cacheKey = [real, st.size, st.mtimeNs, st.ctimeNs, st.ino, st.dev].join("\0");
  } catch {
    cacheKey = null;
  }
  if (cacheKey && opts.cache) {
    const hit = await opts.cache.get(cacheKey);
    if (hit) return { app: { ...hit.app, clsid }, ok: true, notes: hit.notes, cached: true };
  }

  const file = await probeFile(given, cwd, { md5: true });
  if (!file.ok) return { app: { path: file.path, sha256: null, clsid }, ok: false, notes: [file.reason], cached: false };

  const notes: string[] = [];
  const app: CacheEntry["app"] = { path: file.path, sha256: file.sha256, packageName: null, packageVersion: null, vendor: null, verified: null };
  const pkg = await lookupPackage(file.path, opts.query ?? runDpkgQuery);
  if (pkg.status === "owned") {
    app.packageName = pkg.info.name;
    app.packageVersion = pkg.info.version;
    app.vendor = pkg.info.vendor;
    if (pkg.info.md5 === null) {
      app.verified = false;
      notes.push(`package ${pkg.info.name} recorded no checksum for ${pkg.info.recordedPath}: not verified`);
    } else {
      app.verified = pkg.info.md5 === file.md5;
      if (!app.verified) notes.push(`the file differs from what package ${pkg.info.name} installed (MD5 mismatch): not verified`);
    }
  } else if (pkg.status === "unowned") {
    app.verified = false;
    notes.push("no Debian package owns this file: no product, vendor or verification");
  } else {
    // Unknown, not false: a rule that needs it will not match, and the reason is shown.
    notes.push(`${pkg.reason}: product, vendor and verification unknown`);
  }
  // Only a complete probe is cached; a degraded one is retried next time.
  if (file.statKey && opts.cache && pkg.status !== "unavailable") await opts.cache.set({ key: file.statKey, app, notes });
  return { app: { ...app, clsid }, ok: true, notes, cached: false };
}
