// `jit-agent install` / `uninstall`: the daemon as a systemd service (agent/jit-agent.service with its paths filled
// in). Uninstall also removes the sudo drop-in, so removing the agent leaves no right behind. Says what it did.
import { execFile } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { COMMON_OPTIONS, out, parseCommandArgs } from "../args";
import { removeDropIn } from "../enforce/install";
import { loadEnforceSettings } from "../enforce/settings";
import { storeFor, type Command } from "./shared";

const AGENT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const UNIT = "jit-agent.service";

const hasSystemd = () => existsSync("/run/systemd/system");

function systemctl(args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((res) => execFile("systemctl", args, { timeout: 30_000 }, (e, so, se) => res({ ok: !e, output: `${so}${se}`.trim() })));
}

const usage = `Usage: jit-agent install [--unit-dir DIR] [--no-start] [--state-dir DIR]
       jit-agent uninstall [--unit-dir DIR] [--state-dir DIR]

install writes the systemd unit ${UNIT} (default into /etc/systemd/system) and, where
systemd runs, enables and starts the daemon. uninstall stops and removes it and removes the
agent's sudo drop-in. The state directory (enrollment, bundle) is kept.`;

const options = { ...COMMON_OPTIONS, "unit-dir": { type: "string" }, "no-start": { type: "boolean" } } as const;

export const installCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, options);
    const store = storeFor(v["state-dir"]);
    const unitDir = v["unit-dir"] ?? "/etc/systemd/system";
    const template = await fs.readFile(join(AGENT_DIR, UNIT), "utf8");
    const unit = template
      .replaceAll("@NODE@", process.execPath)
      .replaceAll("@AGENT@", resolve(AGENT_DIR, "..", "bin", "jit-agent.mjs"))
      .replaceAll("@STATE_DIR@", store.dir);
    await fs.mkdir(unitDir, { recursive: true });
    await fs.writeFile(join(unitDir, UNIT), unit, { mode: 0o644 });
    out(`wrote ${join(unitDir, UNIT)}`);
    if (v["no-start"] || v["unit-dir"] !== undefined) {
      out("not started (as asked); start it with `systemctl enable --now jit-agent`");
    } else if (!hasSystemd()) {
      out(`systemd is not running on this computer: start the daemon yourself with \`${process.execPath} ${resolve(AGENT_DIR, "..", "bin", "jit-agent.mjs")} run --state-dir ${store.dir}\``);
    } else {
      for (const a of [["daemon-reload"], ["enable", "--now", "jit-agent"]]) {
        const r = await systemctl(a);
        out(`systemctl ${a.join(" ")}: ${r.ok ? "ok" : `failed: ${r.output}`}`);
        if (!r.ok) return 1;
      }
    }
    return 0;
  },
};

export const uninstallCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, options);
    const store = storeFor(v["state-dir"]);
    const unitDir = v["unit-dir"] ?? "/etc/systemd/system";
    if (v["unit-dir"] === undefined && hasSystemd()) {
      const r = await systemctl(["disable", "--now", "jit-agent"]);
      out(`systemctl disable --now jit-agent: ${r.ok ? "ok" : `skipped (${r.output.split("\n")[0]})`}`);
    }
    const unitPath = join(unitDir, UNIT);
    const hadUnit = existsSync(unitPath);
    await fs.rm(unitPath, { force: true });
    out(hadUnit ? `removed ${unitPath}` : `no unit at ${unitPath}`);
    if (v["unit-dir"] === undefined && hasSystemd()) await systemctl(["daemon-reload"]);
    const s = await loadEnforceSettings(store).catch(() => null);
    const target = { dir: s?.dropInDir ?? "/etc/sudoers.d", name: s?.dropInName ?? "jit-access" };
    out((await removeDropIn(target)) ? `removed ${target.dir}/${target.name}` : `no drop-in at ${target.dir}/${target.name}`);
    return 0;
  },
};
