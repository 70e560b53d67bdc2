// `jit-agent cancel ID`: withdraw a pending request (or drop one still queued on this computer).
import { CliError, out } from "../args";
import { dropQueued, requestAction } from "../request-client";
import { requireConfig, storeFor, type Command } from "./shared";
import { idAndOptions } from "./request";

const usage = `Usage: jit-agent cancel ID [--state-dir DIR]

Cancels the pending request ID (or removes it from this computer's queue if it was
never sent). A decided request cannot be cancelled; use \`jit-agent done ID\` to end
approved access early.`;

export const cancelCommand: Command = {
  usage,
  async run(args) {
    const { id, values: v } = idAndOptions(args);
    const store = storeFor(v["state-dir"]);
    if (await dropQueued(store, id)) {
      out(`Queued request ${id} removed; it was never sent.`);
      return 0;
    }
    const config = await requireConfig(store);
    try {
      const r = await requestAction(config, id, "cancel");
      out(`Request ${r.id} cancelled.`);
      return 0;
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  },
};
