import { promises as fs } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveStateDir, StateFileError, StateStore, writeFileAtomic } from "./state";
import { enrolledStore, makeKeys, makeTempDir } from "./test-fixtures";

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("replaces the content, leaves no temp file, and sets mode 0600", async () => {
    const file = join(dir, "x.json");
    await fs.writeFile(file, "old", { mode: 0o644 });
    await writeFileAtomic(file, "new");
    expect(await fs.readFile(file, "utf8")).toBe("new");
    expect(await fs.readdir(dir)).toEqual(["x.json"]);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it("cleans up its temp file when it cannot rename", async () => {
    // Renaming a file over a non-empty folder fails: the temp file must not be left behind.
    const target = join(dir, "folder");
    await fs.mkdir(target);
    await fs.writeFile(join(target, "inside"), "x");
    await expect(writeFileAtomic(target, "data")).rejects.toThrow();
    expect(await fs.readdir(dir)).toEqual(["folder"]);
  });
});

describe("StateStore", () => {
  it("writes config.json with mode 0600 in a 0700 state dir, and reads it back", async () => {
    const stateDir = join(dir, "nested", "state");
    const { store, config } = await enrolledStore(makeKeys(), stateDir);
    expect((await fs.stat(stateDir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(store.path("config"))).mode & 0o777).toBe(0o600);
    expect(await store.loadConfig()).toEqual(config);
    expect(await fs.readdir(stateDir)).toEqual(["config.json"]);
  });

  it("reports a missing config as not enrolled and a damaged one as an error", async () => {
    const store = new StateStore(dir);
    expect(await store.loadConfig()).toBeNull();
    await fs.writeFile(store.path("config"), "{not json");
    await expect(store.loadConfig()).rejects.toBeInstanceOf(StateFileError);
    await fs.writeFile(store.path("config"), JSON.stringify({ server: "http://x" }));
    await expect(store.loadConfig()).rejects.toThrow(/enroll again/);
  });

  it("refuses a damaged rollback guard rather than resetting it", async () => {
    const store = new StateStore(dir);
    expect(await store.loadTrust()).toBeNull();
    await fs.writeFile(store.path("trust"), JSON.stringify({ highestVersion: "7" }));
    await expect(store.loadTrust()).rejects.toBeInstanceOf(StateFileError);
  });

  it("treats an unreadable state.json as empty", async () => {
    const store = new StateStore(dir);
    await fs.writeFile(store.path("state"), "garbage");
    expect(await store.loadSyncState()).toEqual({ lastAttemptAt: null, lastSyncAt: null, lastError: null });
  });
});

describe("resolveStateDir", () => {
  it("takes the flag, then the environment, then root's and a user's default", () => {
    expect(resolveStateDir("/opt/s", { JIT_AGENT_STATE_DIR: "/env" }, 0)).toBe("/opt/s");
    expect(resolveStateDir(undefined, { JIT_AGENT_STATE_DIR: "/env" }, 0)).toBe("/env");
    expect(resolveStateDir(undefined, {}, 0)).toBe("/var/lib/jit-agent");
    expect(resolveStateDir(undefined, {}, 1000, () => "/home/al")).toBe("/home/al/.local/state/jit-agent");
  });
});
