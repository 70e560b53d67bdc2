// `jit-agent enforce [report|sudo]`: shows or sets the enforcement back end and its settings (enforce.json).
import { parseArgs } from "node:util";
import { COMMON_OPTIONS, out, UsageError } from "../args";
import { EnforceSettingsSchema, loadEnforceSettings, saveEnforceSettings } from "../enforce/settings";
import { storeFor, type Command } from "./shared";

const usage = `Usage: jit-agent enforce [report|sudo] [--drop-in NAME] [--drop-in-dir DIR] [--socket PATH] [--on-end end|finish] [--grace SECONDS] [--state-dir DIR]

Shows or sets how the agent enforces its decisions. \`report\` (the default) only decides and
logs. \`sudo\` also writes, for each end user, exactly the commands they may run elevated now
into one sudoers drop-in (/etc/sudoers.d/jit-access), validated with visudo, and opens the
local socket that \`jit run\` talks to. A running daemon picks the change up when restarted.

  --drop-in NAME     the drop-in's file name (letters, digits, _ and -; default jit-access)
  --drop-in-dir DIR  where the drop-in goes (default /etc/sudoers.d)
  --socket PATH      the local socket for \`jit run\` (default /run/jit-agent/agent.sock)
  --on-end MODE      when a grant ends, \`end\` its \`jit run\` processes (default) or let them \`finish\`
  --grace SECONDS    between SIGTERM and SIGKILL when ending them (default 5)`;

export const enforceCommand: Command = {
  usage,
  async run(args) {
    let r;
    try {
      r = parseArgs({
        args,
        options: { ...COMMON_OPTIONS, "drop-in": { type: "string" }, "drop-in-dir": { type: "string" }, socket: { type: "string" }, "on-end": { type: "string" }, grace: { type: "string" } },
        strict: true,
        allowPositionals: true,
      });
    } catch (e) {
      throw new UsageError((e as Error).message.split("\n")[0] ?? "bad arguments");
    }
    if (r.positionals.length > 1) throw new UsageError("expected at most one mode, report or sudo");
    const store = storeFor(r.values["state-dir"]);
    const current = await loadEnforceSettings(store);
    const v = r.values;
    const changes = {
      ...(r.positionals[0] !== undefined ? { mode: r.positionals[0] } : {}),
      ...(v["drop-in"] !== undefined ? { dropInName: v["drop-in"] } : {}),
      ...(v["drop-in-dir"] !== undefined ? { dropInDir: v["drop-in-dir"] } : {}),
      ...(v.socket !== undefined ? { socket: v.socket } : {}),
      ...(v["on-end"] !== undefined ? { onEnd: v["on-end"] } : {}),
      ...(v.grace !== undefined ? { graceSeconds: /^\d+$/.test(v.grace) ? Number(v.grace) : NaN } : {}),
    };
    if (Object.keys(changes).length === 0) {
      out(JSON.stringify(current, null, 2));
      return 0;
    }
    const next = EnforceSettingsSchema.safeParse({ ...current, ...changes });
    if (!next.success) {
      const i = next.error.issues[0];
      throw new UsageError(`${i?.path.join(".") ?? "setting"}: ${i?.message ?? "invalid"}`);
    }
    await saveEnforceSettings(store, next.data);
    out(`enforce: ${next.data.mode}${next.data.mode === "sudo" ? ` (drop-in ${next.data.dropInDir}/${next.data.dropInName}, socket ${next.data.socket}, on grant end: ${next.data.onEnd})` : ""}; restart the daemon to apply`);
    return 0;
  },
};
