// The drop-in installer and `jit-agent install` / `uninstall`, on temp folders (validated by the real visudo where
// sudo is installed; the installer chowns to root, so these run as root).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { installCommand, uninstallCommand } from "../commands/install";
import { StateStore } from "../state";
import { installDropIn } from "./install";
import { saveEnforceSettings, EnforceSettingsSchema } from "./settings";

const ready = process.getuid?.() === 0 && existsSync("/usr/sbin/visudo");
const dir = mkdtempSync(join(tmpdir(), "jit-dropin-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!ready)("installDropIn", () => {
  const target = { dir, name: "jit-unit" };
  it("installs a valid render 0440 root-owned, atomically, and says when nothing changed", async () => {
    const text = "# header\nDefaults:alice timestamp_timeout=0\nalice ALL=(root) NOPASSWD: /opt/tools/\n";
    expect(await installDropIn(target, text)).toEqual({ status: "installed" });
    const st = statSync(join(dir, "jit-unit"));
    expect(st.mode & 0o777).toBe(0o440);
    expect(st.uid).toBe(0);
    expect(await installDropIn(target, text)).toEqual({ status: "unchanged" });
  });

  it("never installs a render visudo refuses: the old drop-in is removed instead, and no temp file is left", async () => {
    writeFileSync(join(dir, "jit-unit"), "alice ALL=(root) NOPASSWD: /usr/bin/id\n", { mode: 0o440 });
    const r = await installDropIn(target, "alice ALL=(root) NOPASSWD /usr/bin/id ,,\n");
    expect(r.status).toBe("invalid");
    expect(existsSync(join(dir, "jit-unit"))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith(".jit-unit"))).toEqual([]);
  });

  it("refuses a drop-in name sudo would ignore", async () => {
    expect((await installDropIn({ dir, name: "jit.access" }, "# x\n")).status).toBe("failed");
  });
});

describe.skipIf(!ready)("jit-agent install / uninstall", () => {
  it("writes the unit with the paths filled in, and uninstall removes it and the drop-in", async () => {
    const state = join(dir, "state");
    const units = join(dir, "units");
    const store = new StateStore(state);
    await saveEnforceSettings(store, EnforceSettingsSchema.parse({ mode: "sudo", dropInDir: dir, dropInName: "jit-unit2" }));
    writeFileSync(join(dir, "jit-unit2"), "# x\n");
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await installCommand.run(["--unit-dir", units, "--state-dir", state])).toBe(0);
      const unit = readFileSync(join(units, "jit-agent.service"), "utf8");
      expect(unit).toContain(`ExecStart=${process.execPath} `);
      expect(unit).toContain(`run --state-dir ${state}`);
      expect(unit).not.toContain("@");
      expect(await uninstallCommand.run(["--unit-dir", units, "--state-dir", state])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(existsSync(join(units, "jit-agent.service"))).toBe(false);
    expect(existsSync(join(dir, "jit-unit2"))).toBe(false);
  });
});
