// The audit trail's background work in a running server: SIEM forwarding (AUDIT_FILE, AUDIT_SYSLOG) and retention
// (prunes old segments once an hour when a retention is set). Neither touches the request path.
import { join } from "node:path";
import type { Logger } from "pino";
import { fileSink, startForwarding, syslogSink, type Forwarder, type SyslogTarget } from "./audit-forward";
import { applyRetention } from "./services/audit";
import type { ServiceContext } from "./services/context";

export type AuditJobsConfig = { dataDir: string; auditFile?: string | null; auditSyslog?: SyslogTarget | null; retentionEveryMs?: number };
export type AuditJobs = { forwarders: Forwarder[]; stop: () => Promise<void> };

export const auditArchiveDir = (dataDir: string): string => join(dataDir, "audit-archive");

export function startAuditJobs(services: ServiceContext, config: AuditJobsConfig, log: Logger): AuditJobs {
  const forwarders: Forwarder[] = [];
  if (config.auditFile) forwarders.push(startForwarding(services, fileSink(config.auditFile), { log }));
  if (config.auditSyslog) forwarders.push(startForwarding(services, syslogSink(config.auditSyslog), { log }));

  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = applyRetention(services, auditArchiveDir(config.dataDir))
      .then((r) => {
        if (r.pruned > 0) log.info(r, "audit retention: exported and pruned an old segment");
      })
      .catch((err: unknown) => log.error({ err }, "audit retention failed"));
  };
  const timer = setInterval(tick, config.retentionEveryMs ?? 3_600_000);
  timer.unref();
  const first = setTimeout(tick, 30_000);
  first.unref();

  return {
    forwarders,
    async stop() {
      clearInterval(timer);
      clearTimeout(first);
      await running;
      await Promise.all(forwarders.map((f) => f.stop()));
    },
  };
}
