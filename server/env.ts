// Server configuration: read from the environment once, at start, and refused with one clear line when wrong.
import { z } from "zod";
import { resolve } from "node:path";
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
    },
  };
}
