// The audit trail's background work in a running server: SIEM forwarding (AUDIT_FILE, AUDIT_SYSLOG) and retention
// (prunes old segments once an hour when a retention is set), and a periodic verification of the chain (daily by
// default, AUDIT_VERIFY_EVERY), whose new failures reach the notifications. None of it touches the request path.
import { join } from "node:path";
import type { Logger } from "pino";
import { fileSink, startForwarding, syslogSink, type Forwarder, type SyslogTarget } from "./audit-forward";
import { applyRetention, verifyChain } from "./services/audit";
import type { ServiceContext } from "./services/context";

export type AuditJobsConfig = { dataDir: string; auditFile?: string | null; auditSyslog?: SyslogTarget | null; retentionEveryMs?: number; /** null: no periodic verification. */ verifyEveryMs?: number | null };
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

  // A failure is recorded as an audit.verify_failed event by verifyChain (once per new failure), which notifies.
  let verifying: Promise<unknown> | null = null;
  const verifyEvery = config.verifyEveryMs === undefined ? 86_400_000 : config.verifyEveryMs;
  const verifyTimer = verifyEvery
    ? setInterval(() => {
        // One walk at a time: a long chain may take longer than a short interval.
        verifying ??= verifyChain(services, { by: "scheduled verification" })
          .then((v) => {
            if (!v.ok) log.error({ badSeq: v.badSeq, problem: v.problem }, "audit trail verification failed");
          })
          .catch((err: unknown) => log.error({ err }, "audit verification could not run"))
          .finally(() => (verifying = null));
      }, verifyEvery)
    : null;
  verifyTimer?.unref();

  return {
    forwarders,
    async stop() {
      clearInterval(timer);
      clearTimeout(first);
      if (verifyTimer) clearInterval(verifyTimer);
      await running;
      await verifying;
      await Promise.all(forwarders.map((f) => f.stop()));
    },
  };
}
