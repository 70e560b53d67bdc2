// Pure POSIX path helpers for rule matching (no file system: symlinks are resolved by the agent's probe first).

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

/** True when `path` lies inside `folder`, by whole path segments ("/opt/tool" does not hold "/opt/toolbox/x"). */
export function isUnderFolder(path: string, folder: string): boolean {
  const p = normalizeAbsolutePath(path);
  const f = normalizeAbsolutePath(folder);
  if (p === null || f === null) return false;
  if (f === "/") return p !== "/";
  return p.startsWith(f + "/");
}
