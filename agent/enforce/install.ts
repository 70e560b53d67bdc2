// Installing the sudoers drop-in safely: the text is written beside the target under a name sudo ignores (it holds
// a "."), owned by root with mode 0440, validated with `visudo -cf`, and only then renamed over the drop-in. A render
// that fails validation is never installed: the old drop-in is removed instead (no stale right survives) and the
// failure is returned for the log. The agent never touches /etc/sudoers itself.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";

/** sudo ignores drop-ins whose names hold a "." or end in "~": ours must be a plain name it reads. */
export const DROP_IN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export type DropInTarget = { dir: string; name: string; visudo?: string };

export const dropInPath = (t: DropInTarget) => join(t.dir, t.name);

export type InstallResult = { status: "installed" | "unchanged" } | { status: "invalid"; message: string } | { status: "failed"; message: string };

function runVisudo(visudo: string, file: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(visudo, ["-c", "-q", "-f", file], { timeout: 10_000, env: { ...process.env, LC_ALL: "C" } }, (error, stdout, stderr) => {
      resolve({ ok: !error, output: `${stdout}${stderr}`.trim() || (error ? error.message : "") });
    });
  });
}

export async function readDropIn(t: DropInTarget): Promise<string | null> {
  try {
    return await fs.readFile(dropInPath(t), "utf8");
  } catch {
    return null;
  }
}

export async function removeDropIn(t: DropInTarget): Promise<boolean> {
  try {
    await fs.rm(dropInPath(t));
    return true;
  } catch {
    return false;
  }
}

export async function installDropIn(t: DropInTarget, text: string): Promise<InstallResult> {
  if (!DROP_IN_NAME.test(t.name)) return { status: "failed", message: `the drop-in name ${JSON.stringify(t.name)} is not one sudo reads (letters, digits, _ and - only)` };
  const target = dropInPath(t);
  const current = await readDropIn(t);
  if (current === text) {
    const st = await fs.stat(target).catch(() => null);
    if (st && (st.mode & 0o777) === 0o440 && st.uid === 0) return { status: "unchanged" };
  }
  await fs.mkdir(t.dir, { recursive: true, mode: 0o755 }).catch(() => {});
  const tmp = join(t.dir, `.${t.name}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, "wx", 0o440);
    await handle.writeFile(text, "utf8");
    await handle.chmod(0o440);
    await handle.chown(0, 0);
    await handle.sync();
    await handle.close();
    handle = undefined;
    const check = await runVisudo(t.visudo ?? "visudo", tmp);
    if (!check.ok) {
      await fs.rm(tmp, { force: true });
      await removeDropIn(t);
      return { status: "invalid", message: `visudo refused the rendered drop-in (${check.output}); it was not installed and the previous one was removed` };
    }
    await fs.rename(tmp, target);
    return { status: "installed" };
  } catch (e) {
    await handle?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    // Could not write the new rights: take the old ones away rather than leave them in force.
    await removeDropIn(t);
    return { status: "failed", message: `cannot install ${target}: ${(e as Error).message}` };
  }
}
