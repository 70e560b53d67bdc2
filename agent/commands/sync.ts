// `jit-agent sync`: one bundle pull now, without waiting.
import { AgentHttpError } from "../client";
import { COMMON_OPTIONS, err, out, parseCommandArgs } from "../args";
import { syncOnce } from "../sync";
import { requireConfig, storeFor, type Command } from "./shared";

const usage = `Usage: jit-agent sync [--json] [--state-dir DIR]

Pulls the policy bundle from the server once, now. A bundle that fails its checks
(signature, computer, rollback, expiry) is refused and the cached one is kept.

  --json           print one JSON object
  --state-dir DIR  where the agent keeps its state

Exit status: 0 applied or unchanged, 1 refused or the server could not be asked.`;

export const syncCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, { ...COMMON_OPTIONS, json: { type: "boolean" } });
    const store = storeFor(v["state-dir"]);
    const config = await requireConfig(store);
    let result: Record<string, unknown>;
    let code = 0;
    try {
      const r = await syncOnce(store, config, { wait: 0 });
      if (r.status === "applied") {
        result = { result: "applied", version: r.version, previous: r.previous };
        if (!v.json) out(`Bundle version ${r.version} applied${r.previous !== null ? ` (was ${r.previous})` : ""}.`);
      } else if (r.status === "unchanged") {
        result = { result: "unchanged", version: r.version };
        if (!v.json) out(r.version === null ? "No bundle yet (the server has none for this computer)." : `Bundle unchanged (version ${r.version}).`);
      } else {
        code = 1;
        result = { result: "refused", version: r.version, offeredVersion: r.offeredVersion, refusal: r.refusal };
        if (!v.json) err(`jit-agent: bundle refused (${r.refusal.code}): ${r.refusal.message}; ${r.version !== null ? `keeping version ${r.version}` : "no bundle in force"}`);
      }
    } catch (e) {
      if (!(e instanceof AgentHttpError)) throw e;
      code = 1;
      result = { result: "error", error: { kind: e.kind, status: e.status, code: e.code, message: e.message } };
      if (!v.json) err(`jit-agent: sync failed: ${e.message}`);
    }
    if (v.json) out(JSON.stringify(result));
    return code;
  },
};
