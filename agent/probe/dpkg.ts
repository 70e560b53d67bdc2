// What the Debian package database says about a file: the package that owns it, its version, its vendor, and the
// MD5 digest the package recorded for it (md5sums). Read through dpkg-query, never by guessing.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";

export type PackageInfo = {
  name: string;
  version: string;
  vendor: string | null;
  /** The file's path as the package database records it (on merged-/usr systems it may be /bin/x for /usr/bin/x). */
  recordedPath: string;
  /** The MD5 digest recorded for the file, or null when the package recorded none. */
  md5: string | null;
};

export type PackageLookup = { status: "owned"; info: PackageInfo } | { status: "unowned" } | { status: "unavailable"; reason: string };

export type DpkgQuery = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** Runs dpkg-query with a fixed locale and a time limit. ENOENT (no dpkg) is reported, not thrown. */
export const runDpkgQuery: DpkgQuery = (args) =>
  new Promise((resolve, reject) => {
    execFile("dpkg-query", args, { env: { ...process.env, LC_ALL: "C" }, timeout: 10_000, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") return reject(error);
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });

/**
 * The vendor of a package: its Origin or Vendor field where present, else the organisation of its Maintainer,
 * read from the maintainer's mail domain ("Dpkg Developers <debian-dpkg@lists.debian.org>" → "Debian"), else the
 * maintainer's name.
 */
export function vendorOf(fields: { origin?: string; vendor?: string; maintainer?: string }): string | null {
  const direct = fields.origin?.trim() || fields.vendor?.trim();
  if (direct) return direct;
  const m = fields.maintainer?.trim();
  if (!m) return null;
  const email = /<[^@>\s]+@([^>\s]+)>/.exec(m);
  if (email) {
    const labels = email[1]!.toLowerCase().split(".").filter((l) => l !== "");
    // The registrable name: "lists.debian.org" → "debian"; "example.co.uk" → "example".
    let i = labels.length - 2;
    if (i > 0 && ["co", "com", "org", "net", "ac", "gov", "edu"].includes(labels[i]!) && labels[i + 1]!.length === 2) i--;
    const org = labels[Math.max(i, 0)];
    if (org) return org.charAt(0).toUpperCase() + org.slice(1);
  }
  const name = m.replace(/<[^>]*>/, "").trim();
  return name || null;
}

/** Parses `dpkg-query -S` output for one path: "pkg: /path" or "pkg1, pkg2: /path"; diversion lines are skipped. */
export function parseSearchOutput(stdout: string, path: string): string | null {
  for (const line of stdout.split("\n")) {
    if (line.startsWith("diversion ")) continue;
    const sep = line.lastIndexOf(": ");
    if (sep < 0 || line.slice(sep + 2) !== path) continue;
    const first = line.slice(0, sep).split(",")[0]?.trim();
    if (first) return first;
  }
  return null;
}

/** Finds the package that owns a file, its version, vendor and recorded digest. */
export async function lookupPackage(realPath: string, query: DpkgQuery = runDpkgQuery, readFile = (p: string) => fs.readFile(p, "utf8")): Promise<PackageLookup> {
  // On merged-/usr systems the package database may record /bin/x while the real path is /usr/bin/x.
  const candidates = [realPath];
  if (/^\/usr\/(bin|sbin|lib[^/]*)\//.test(realPath)) candidates.push(realPath.slice(4));
  let owner: { pkg: string; path: string } | null = null;
  try {
    for (const path of candidates) {
      const r = await query(["-S", path]);
      if (r.code !== 0) continue;
      const pkg = parseSearchOutput(r.stdout, path);
      if (pkg) {
        owner = { pkg, path };
        break;
      }
    }
    if (!owner) return { status: "unowned" };
    const show = await query(["-W", "-f", "${Package}\\t${Version}\\t${Maintainer}\\t${Origin}\\t${Vendor}\\n", owner.pkg]);
    if (show.code !== 0) return { status: "unavailable", reason: `dpkg-query could not show package ${owner.pkg}: ${show.stderr.trim()}` };
    const [name, version, maintainer, origin, vendor] = show.stdout.split("\n")[0]!.split("\t");
    if (!name || !version) return { status: "unavailable", reason: `dpkg-query gave no version for package ${owner.pkg}` };
    let md5: string | null = null;
    const control = await query(["--control-path", owner.pkg, "md5sums"]);
    const md5File = control.code === 0 ? control.stdout.trim().split("\n")[0] : undefined;
    if (md5File) {
      const rel = owner.path.slice(1);
      try {
        for (const line of (await readFile(md5File)).split("\n")) {
          const m = /^([0-9a-f]{32}) {2}(.+)$/.exec(line);
          if (m && m[2] === rel) {
            md5 = m[1]!;
            break;
          }
        }
      } catch {
        md5 = null;
      }
    }
    return { status: "owned", info: { name, version, vendor: vendorOf({ maintainer, origin, vendor }), recordedPath: owner.path, md5 } };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { status: "unavailable", reason: code === "ENOENT" ? "dpkg-query is not installed" : `dpkg-query failed: ${(e as Error).message}` };
  }
}
