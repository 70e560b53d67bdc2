// Server configuration: read from the environment once, at start, and refused with one clear line when wrong.
import { z } from "zod";
import { resolve } from "node:path";
import { durationMs } from "../core/duration";
import { parseSyslogTarget, type SyslogTarget } from "./audit-forward";

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z
    .string()
    .refine((u) => /^postgres(ql)?:\/\//.test(u), 'DATABASE_URL must be a "postgres://…" URL (leave it unset for the embedded SQLite)')
    .optional(),
  PUBLIC_URL: z.url("PUBLIC_URL must be a URL like https://jit.example.com").optional(),
  ADMIN_EMAIL: z.string().optional(),
  ADMIN_PASSWORD: z.string().optional(),
  // At least 2: the sweeper holds one connection for its lock while it works through another.
  PG_POOL_MAX: z.coerce.number().int().min(2, "PG_POOL_MAX must be at least 2").max(1000).default(10),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  NODE_ENV: z.string().default("production"),
  AUDIT_FILE: z.string().min(1).optional(),
  AUDIT_SYSLOG: z
    .string()
    .refine((t) => parseSyslogTarget(t) !== null, 'AUDIT_SYSLOG must look like "tcp://host:514" or "udp://host:514"')
    .optional(),
  // Notifications (issue 9). SMTP_URL carries a password: it is never logged.
  SMTP_URL: z
    .string()
    .refine((u) => /^smtps?:\/\/[^/]/.test(u), 'SMTP_URL must look like "smtp://user:pass@mail.example.com:587" or "smtps://…:465"')
    .optional(),
  MAIL_FROM: z.string().min(3).default("JIT Access <jit@localhost>"),
  NOTIFY_ALLOW_LOOPBACK_HTTP: z.enum(["0", "1", "true", "false"]).optional(),
  // Web push (RFC 8292): who runs this server, for push services to contact ("mailto:…" or "https://…").
  VAPID_SUBJECT: z
    .string()
    .refine((v) => /^mailto:[^@\s]+@[^@\s]+$/.test(v) || /^https:\/\/[^/\s]/.test(v), 'VAPID_SUBJECT must look like "mailto:admin@example.com" or "https://jit.example.com"')
    .optional(),
  AUDIT_VERIFY_EVERY: z
    .string()
    .refine((d) => d === "off" || (durationMs(d) ?? 0) >= 60_000, 'AUDIT_VERIFY_EVERY must be a duration like "24h" (at least "1m") or "off"')
    .default("24h"),
});

export type ServerEnv = {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  publicUrl: string | null;
  admin: { email: string; password: string } | null;
  pgPoolMax: number;
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
  dev: boolean;
  /** SIEM forwarding: every audit event as a JSON line appended to this file. */
  auditFile?: string | null;
  /** SIEM forwarding: every audit event as RFC 5424 syslog to this receiver. */
  auditSyslog?: SyslogTarget | null;
  /** Email notifications: SMTP_URL (never logged: it carries the password); null: email is off. */
  smtpUrl?: string | null;
  /** The From: of notification emails. */
  mailFrom?: string;
  /** Webhooks (and push endpoints) may point at loopback: for tests and local trials only. */
  notifyAllowLoopbackHttp?: boolean;
  /** Web push: the VAPID `sub` claim (VAPID_SUBJECT, else PUBLIC_URL when https, else mailto:admin@localhost). */
  vapidSubject?: string;
  /** How often the audit chain is verified in the background (ms); null: never. */
  auditVerifyEveryMs?: number | null;
};

export function parseEnv(env: NodeJS.ProcessEnv): { value: ServerEnv } | { error: string } {
  const r = EnvSchema.safeParse(env);
  if (!r.success) {
    return { error: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
  }
  const e = r.data;
  if (Boolean(e.ADMIN_EMAIL) !== Boolean(e.ADMIN_PASSWORD)) {
    return { error: "ADMIN_EMAIL and ADMIN_PASSWORD go together: set both, or neither" };
  }
  return {
    value: {
      port: e.PORT,
      host: e.HOST,
      dataDir: resolve(e.DATA_DIR),
      databaseUrl: e.DATABASE_URL ?? null,
      publicUrl: e.PUBLIC_URL ? e.PUBLIC_URL.replace(/\/+$/, "") : null,
      admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : null,
      pgPoolMax: e.PG_POOL_MAX,
      logLevel: e.LOG_LEVEL,
      dev: e.NODE_ENV === "development",
      auditFile: e.AUDIT_FILE ? resolve(e.AUDIT_FILE) : null,
      auditSyslog: e.AUDIT_SYSLOG ? parseSyslogTarget(e.AUDIT_SYSLOG) : null,
      smtpUrl: e.SMTP_URL ?? null,
      mailFrom: e.MAIL_FROM,
      notifyAllowLoopbackHttp: e.NOTIFY_ALLOW_LOOPBACK_HTTP === "1" || e.NOTIFY_ALLOW_LOOPBACK_HTTP === "true",
      vapidSubject: e.VAPID_SUBJECT ?? (e.PUBLIC_URL?.startsWith("https://") ? e.PUBLIC_URL.replace(/\/+$/, "") : "mailto:admin@localhost"),
      auditVerifyEveryMs: e.AUDIT_VERIFY_EVERY === "off" ? null : durationMs(e.AUDIT_VERIFY_EVERY),
    },
  };
}
