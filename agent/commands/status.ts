// `jit-agent status`: the enrollment, the bundle in force, and how the last sync went. Reads the disk only.
import { COMMON_OPTIONS, out, parseCommandArgs } from "../args";
import { agentMode } from "../mode";
import { loadCachedBundle } from "../trusted-bundle";
import { requireConfig, storeFor, type Command } from "./shared";

const usage = `Usage: jit-agent status [--json] [--state-dir DIR]

Shows the server, this computer's name and id, the policy bundle in force and its validity,
the last sync and the last error, and the mode:
  live    the last attempt to sync succeeded
  cached  the last attempt failed; decisions come from the cached bundle, still valid
  stale   the cached bundle's validity has passed; everything is denied until a sync succeeds
  none    no trusted bundle; everything is denied

  --json           print one JSON object
  --state-dir DIR  where the agent keeps its state`;

export const statusCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, { ...COMMON_OPTIONS, json: { type: "boolean" } });
    const store = storeFor(v["state-dir"]);
    const now = new Date();
    if (!(await store.loadConfig().catch(() => "damaged" as const))) {
      if (v.json) out(JSON.stringify({ enrolled: false, stateDir: store.dir, mode: "none" }));
      else out(`Not enrolled (state dir ${store.dir}). Run \`jit-agent enroll --server URL --token TOKEN\`.`);
      return 0;
    }
    const config = await requireConfig(store);
    const cached = await loadCachedBundle(store, config, now);
    const sync = await store.loadSyncState();
    const bundle = cached.status === "trusted" ? cached.bundle : null;
    const status = {
      enrolled: true,
      stateDir: store.dir,
      server: config.server,
      computer: config.computer,
      keyId: config.keyId,
      mode: agentMode({ validUntil: bundle?.validUntil ?? null, lastAttemptFailed: sync.lastError !== null, now }),
      bundleVersion: bundle?.version ?? null,
      issuedAt: bundle?.issuedAt ?? null,
      validUntil: bundle?.validUntil ?? null,
      policies: bundle?.policies.length ?? null,
      grants: bundle?.grants.length ?? null,
      bundleError: cached.status === "refused" ? cached.refusal : null,
      lastSyncAt: sync.lastSyncAt,
      lastAttemptAt: sync.lastAttemptAt,
      lastError: sync.lastError,
    };
    if (v.json) {
      out(JSON.stringify(status));
      return 0;
    }
    out(`Server:       ${config.servers && config.servers.length > 1 ? config.servers.join(", ") : status.server}`);
    out(`Computer:     ${status.computer.name} (id ${status.computer.id})`);
    out(`Mode:         ${status.mode}`);
    out(`Bundle:       ${bundle ? `version ${bundle.version}, ${bundle.policies.length} polic${bundle.policies.length === 1 ? "y" : "ies"}, ${bundle.grants.length} grant${bundle.grants.length === 1 ? "" : "s"}` : "none"}`);
    if (status.bundleError) out(`Cached bundle refused (${status.bundleError.code}): ${status.bundleError.message}`);
    if (bundle) {
      out(`Issued at:    ${bundle.issuedAt}`);
      out(`Valid until:  ${bundle.validUntil}`);
    }
    out(`Last sync:    ${status.lastSyncAt ?? "never"}`);
    out(`Last error:   ${status.lastError ? `${status.lastError.message} (${status.lastError.code}, ${status.lastError.at})` : "none"}`);
    out(`State dir:    ${status.stateDir}`);
    return 0;
  },
};
