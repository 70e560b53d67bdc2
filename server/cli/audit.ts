// `jit-server audit verify|prune`: run against the database the environment names, without starting the server.
import { parseArgs } from "node:util";
import pino from "pino";
import { openServices } from "../app";
import { auditArchiveDir } from "../audit-jobs";
import type { ServerEnv } from "../env";
import { applyRetention, pruneAudit, verifyChain } from "../services/audit";

export const AUDIT_USAGE = `  audit verify [--json]       walk the audit trail's hash chain; exit 0 intact, 1 broken (names the first bad event)
  audit prune [--before ISO]  export and prune events older than the retention setting (or --before) now`;

/** Returns the exit code. */
export async function auditCommand(env: ServerEnv, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { json: { type: "boolean" }, before: { type: "string" } }, strict: true });
  if (sub !== "verify" && sub !== "prune") throw Object.assign(new Error(`audit: expected verify or prune, got "${sub ?? ""}"`), { code: "ERR_PARSE_ARGS_USAGE" });
  const { services, handle, closeFeed } = await openServices(env, { log: pino({ level: "warn" }) });
  try {
    if (sub === "verify") {
      const v = await verifyChain(services, { by: "jit-server audit verify" });
      if (values.json) console.log(JSON.stringify(v));
      else if (v.ok) {
        const range = v.firstSeq === null ? "no events" : `events #${v.firstSeq}–#${v.lastSeq}`;
        console.log(`audit trail intact: ${v.checked} events checked (${range}${v.checkpointSeq !== null ? `, from the signed checkpoint at #${v.checkpointSeq}` : ""})`);
      } else console.log(`audit trail BROKEN at event #${v.badSeq}: ${v.problem}`);
      return v.ok ? 0 : 1;
    }
    let before: Date | null = null;
    if (values.before) {
      before = new Date(values.before);
      if (Number.isNaN(before.getTime())) throw Object.assign(new Error(`--before: expected an ISO date, got "${values.before}"`), { code: "ERR_PARSE_ARGS_USAGE" });
    }
    const archiveDir = auditArchiveDir(env.dataDir);
    const r = before ? await pruneAudit(services, { archiveDir, before }) : await applyRetention(services, archiveDir);
    if (values.json) console.log(JSON.stringify(r));
    else if (r.pruned === 0) console.log("nothing to prune");
    else if ("archiveFile" in r) console.log(`pruned events #${r.fromSeq}–#${r.toSeq} (${r.pruned}); exported to ${r.archiveFile} (sha256 ${r.archiveSha256})`);
    return 0;
  } finally {
    await closeFeed();
    await handle.db.destroy();
  }
}
