// `jit-agent done ID`: end one's own approved access before its time (the grant leaves the bundle at once).
import { CliError, out } from "../args";
import { requestAction } from "../request-client";
import { syncOnce } from "../sync";
import { requireConfig, storeFor, type Command } from "./shared";
import { idAndOptions } from "./request";

const usage = `Usage: jit-agent done ID [--state-dir DIR]

Ends the approved access of request ID now, before its time is up. It is recorded on
the audit trail as ended early by the user, and the computer's bundle is refreshed.`;

export const doneCommand: Command = {
  usage,
  async run(args) {
    const { id, values: v } = idAndOptions(args);
    const store = storeFor(v["state-dir"]);
    const config = await requireConfig(store);
    let r;
    try {
      r = await requestAction(config, id, "done");
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    await syncOnce(store, config, { wait: 0 }).catch(() => {});
    out(`Request ${r.id}: access ended at ${r.endsAt}.`);
    return 0;
  },
};
