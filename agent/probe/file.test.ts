import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-fixtures";
import { probeFile } from "./file";

let dir: string;
beforeEach(async () => {
  // realpath: the temp dir itself may sit behind a symlink (macOS /var → /private/var).
  dir = await fs.realpath(await makeTempDir());
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("probeFile", () => {
  it("streams the SHA-256 of the file's content", async () => {
    const content = Buffer.concat([Buffer.from("#!/bin/sh\necho hi\n"), Buffer.alloc(300_000, 7)]);
    const file = join(dir, "tool");
    await fs.writeFile(file, content);
    const r = await probeFile(file);
    expect(r).toEqual({ ok: true, path: file, sha256: createHash("sha256").update(content).digest("hex"), size: content.length });
  });

  it("hashes an empty file", async () => {
    const file = join(dir, "empty");
    await fs.writeFile(file, "");
    const r = await probeFile(file);
    expect(r.ok && r.sha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("follows a symlink to the real path", async () => {
    await fs.mkdir(join(dir, "real"));
    const target = join(dir, "real", "tool");
    await fs.writeFile(target, "x");
    await fs.symlink(target, join(dir, "link"));
    const r = await probeFile(join(dir, "link"));
    expect(r.ok).toBe(true);
    expect(r.path).toBe(target);
  });

  it("resolves '..' and relative paths", async () => {
    await fs.mkdir(join(dir, "a", "b"), { recursive: true });
    await fs.writeFile(join(dir, "a", "tool"), "x");
    expect((await probeFile(`${dir}/a/b/../tool`)).path).toBe(join(dir, "a", "tool"));
    expect((await probeFile("b/../tool", join(dir, "a"))).path).toBe(join(dir, "a", "tool"));
  });

  it("resolves '..' after a symlinked folder as the kernel does (from the link's target)", async () => {
    await fs.mkdir(join(dir, "x", "y"), { recursive: true });
    await fs.writeFile(join(dir, "x", "tool"), "x");
    await fs.symlink(join(dir, "x", "y"), join(dir, "ylink"));
    expect((await probeFile(`${dir}/ylink/../tool`)).path).toBe(join(dir, "x", "tool"));
  });

  it("refuses a missing file, a folder, and a dangling symlink", async () => {
    const missing = await probeFile(join(dir, "nope"));
    expect(missing).toMatchObject({ ok: false, reason: expect.stringContaining("does not exist") });
    const folder = await probeFile(dir);
    expect(folder).toMatchObject({ ok: false, reason: expect.stringContaining("not a regular file") });
    await fs.symlink(join(dir, "gone"), join(dir, "dangling"));
    expect(await probeFile(join(dir, "dangling"))).toMatchObject({ ok: false });
  });
});
