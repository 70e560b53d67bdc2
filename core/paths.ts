// Pure path helpers for rule matching (no file system: symlinks are resolved by the agent's probe first).
// POSIX paths compare exactly; Windows-style paths ("C:\Program Files\x") compare case-insensitively with
// either separator, as the Windows file system does.

/** Normalises an absolute POSIX path: collapses "//" and ".", resolves "..", drops a trailing "/". Null if not absolute. */
export function normalizeAbsolutePath(path: string): string | null {
  if (!path.startsWith("/") || path.includes("\0")) return null;
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

const WINDOWS_ABSOLUTE = /^[A-Za-z]:[\\/]/;

export function isWindowsPath(path: string): boolean {
  return WINDOWS_ABSOLUTE.test(path);
}

/**
 * The form two paths are compared in: POSIX normalised ("/opt/tools"), Windows lower-cased with "/" ("c:/tools",
 * the drive root "c:"). "." and ".." are resolved as text. Null for a path that is not absolute.
 */
export function pathKey(path: string): string | null {
  if (path.includes("\0")) return null;
  if (isWindowsPath(path)) {
    const out: string[] = [];
    for (const seg of path.slice(3).split(/[\\/]/)) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") out.pop();
      else out.push(seg.toLowerCase());
    }
    return [path.slice(0, 2).toLowerCase(), ...out].join("/");
  }
  return normalizeAbsolutePath(path);
}

/**
 * The key of an executable's path as the probe reports it: it must already be resolved (no ".", "..", or empty
 * segments; one trailing separator is tolerated). Anything else is refused (null): a folder rule never guesses.
 */
export function resolvedPathKey(path: string): string | null {
  const key = pathKey(path);
  if (key === null) return null;
  const trimmed = path.replace(/[\\/]$/, "");
  const segs = isWindowsPath(path) ? trimmed.slice(3).split(/[\\/]/) : trimmed.slice(1).split("/");
  if (trimmed.length > (isWindowsPath(path) ? 2 : 0) && segs.some((s) => s === "" || s === "." || s === "..")) return null;
  return key;
}

/** The folder keys that hold a path key, nearest first: "/a/b/c" → "/a/b", "/a", "/"; "c:/a/b" → "c:/a", "c:". */
export function ancestorKeys(key: string): string[] {
  const out: string[] = [];
  let k = key;
  for (;;) {
    const slash = k.lastIndexOf("/");
    if (slash < 0) break;
    k = slash === 0 ? "/" : k.slice(0, slash);
    out.push(k);
    if (k === "/") break;
  }
  return out;
}

/** True when folder key `f` holds path key `p` by whole segments ("/opt/tool" does not hold "/opt/toolbox/x"). */
export function keyIsUnder(p: string, f: string): boolean {
  if (f === "/") return p.startsWith("/") && p !== "/";
  return p.startsWith(f + "/");
}

/** True when `path` lies inside `folder`, by whole path segments. */
export function isUnderFolder(path: string, folder: string): boolean {
  const p = pathKey(path);
  const f = pathKey(folder);
  if (p === null || f === null) return false;
  return keyIsUnder(p, f);
}

/** The last segment of a path, either separator. */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  const cut = isWindowsPath(path) ? Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\")) : trimmed.lastIndexOf("/");
  return trimmed.slice(cut + 1);
}
