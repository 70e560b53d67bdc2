// Email notifications over SMTP (SMTP_URL): each console user who opted in (Settings → Notifications) gets the
// kinds they chose, and only those their role may see (requests and grants: roles that decide requests). The
// message (to, subject, text, link to the request) is made at fan-out; a retry sends the same one.
// SMTP answers: 4xx and network errors are retried; 5xx (mailbox refused, …) fails at once.
import { createTransport, type Transporter } from "nodemailer";
import { z } from "zod";
import { NotificationKindSchema, notificationKindsFor, type NotificationKind } from "../../core/notifications";
import { RoleSchema } from "../../core/roles";
import type { Channel, DeliveryOutcome, NotifyConfig } from "./types";
import { autonomousRuleOf, messageFor, type NotificationMessage } from "./message";

/** Well inside the dispatcher's 60 s lease (nodemailer waits minutes by default). */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export const EmailPayloadSchema = z.object({ to: z.string(), subject: z.string(), text: z.string(), kind: z.union([NotificationKindSchema, z.literal("test")]) });
export type EmailPayload = z.infer<typeof EmailPayloadSchema>;

export function parseEmailEvents(text: string): NotificationKind[] {
  try {
    const r = z.array(NotificationKindSchema).safeParse(JSON.parse(text));
    return r.success ? r.data : [];
  } catch {
    return [];
  }
}

export function emailText(m: NotificationMessage): string {
  const lines = [m.text, ""];
  if (m.request) {
    lines.push(`User: ${m.request.user}`, `Computer: ${m.request.computer.name ?? m.request.computer.id}`, `Application: ${m.request.app.path}`);
    if (m.request.justification) lines.push(`Justification: ${m.request.justification}`);
    lines.push("");
  }
  lines.push(m.kind === "request.submitted" ? `Decide it here: ${m.link}` : `Open it in JIT Access: ${m.link}`, "", `(Audit event #${m.seq} at ${m.at}. You get this because you turned on email notifications in JIT Access: Settings → Notifications.)`);
  return lines.join("\n");
}

/** "smtp://user:secret@host" → "smtp://user:***@host", for logs and the console. */
export function redactSmtpUrl(url: string): string {
  return url.replace(/^(smtps?:\/\/[^:@/]*):[^@/]*@/, "$1:***@");
}

export function smtpOutcome(e: unknown): DeliveryOutcome {
  const err = e as { responseCode?: number; code?: string; message?: string };
  const code = typeof err.responseCode === "number" ? err.responseCode : undefined;
  // Our messages never echo SMTP_URL: nodemailer's errors carry the server's answer, not our credentials.
  const what = (err.message ?? String(e)).slice(0, 300);
  if (code !== undefined && code >= 500) return { ok: false, status: code, error: `The mail server refused it: ${what}`, retry: false };
  return { ok: false, status: code, error: `Could not send the email: ${what}`, retry: true };
}

export function emailChannel(config: NotifyConfig): Channel | null {
  if (!config.smtpUrl) return null;
  const smtpUrl = config.smtpUrl;
  let transport: Transporter | null = null;
  const transporter = () => (transport ??= createTransport({ url: smtpUrl, ...SMTP_TIMEOUTS }, { from: config.mailFrom }));
  return {
    name: "email",
    async fanOut(_ctx, trx, n) {
      // Nobody is asked to decide what an Autonomous Approval rule approves at once (its decision is emailed).
      if (n.kind === "request.submitted" && autonomousRuleOf(n.event.detail)) return [];
      const rows = await trx
        .selectFrom("notification_prefs")
        .innerJoin("users", "users.id", "notification_prefs.user_id")
        .select(["users.id", "users.email", "users.role", "notification_prefs.email_events"])
        .where("notification_prefs.email_enabled", "=", 1)
        .where("users.disabled", "=", 0)
        .orderBy("users.email")
        .execute();
      const to = rows.filter((u) => {
        const role = RoleSchema.safeParse(u.role);
        return role.success && notificationKindsFor(role.data).includes(n.kind) && parseEmailEvents(u.email_events).includes(n.kind);
      });
      if (to.length === 0) return [];
      const m = await messageFor(trx, config.publicUrl, n.kind, n.event);
      const text = emailText(m);
      return to.map((u) => ({ targetId: u.id, payload: { to: u.email, subject: `[JIT Access] ${m.title}`, text, kind: n.kind } satisfies EmailPayload }));
    },
    async deliver(ctx, d) {
      const p = EmailPayloadSchema.safeParse(d.payload);
      if (!p.success) return { ok: false, error: "The stored email is unreadable", retry: false };
      // A user disabled since the fan-out gets nothing more.
      const user = await ctx.db.selectFrom("users").select(["disabled"]).where("id", "=", d.targetId).executeTakeFirst();
      if (!user || user.disabled) return { ok: false, error: "The user was disabled or removed", retry: false, drop: true };
      try {
        await transporter().sendMail({ from: config.mailFrom, to: p.data.to, subject: p.data.subject, text: p.data.text, headers: { "X-JIT-Delivery": d.id, "X-JIT-Event": p.data.kind } });
        return { ok: true };
      } catch (e) {
        return smtpOutcome(e);
      }
    },
  };
}

/** Sends one message now (the console's "send a test email"): the outcome, never a throw. */
export async function sendTestEmail(config: NotifyConfig, to: string): Promise<DeliveryOutcome> {
  if (!config.smtpUrl) return { ok: false, error: "Email is off: the server has no SMTP_URL.", retry: false };
  try {
    const t = createTransport({ url: config.smtpUrl, ...SMTP_TIMEOUTS });
    await t.sendMail({ from: config.mailFrom, to, subject: "[JIT Access] Test email", text: "This is a test from JIT Access: email notifications reach you." });
    t.close();
    return { ok: true };
  } catch (e) {
    return smtpOutcome(e);
  }
}
