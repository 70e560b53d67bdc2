// Console sessions after the Lucia guide: the token is "<id>.<secret>"; the database keeps the id and
// SHA-256(secret) only, compared in constant time. Idle expiry slides; absolute expiry does not.
import { createHash, randomBytes } from "node:crypto";
import { constantTimeEqual } from "@oslojs/crypto/subtle";
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";
import type { Db } from "../db/schema";

export const SESSION_IDLE_MS = 7 * 24 * 3600_000;
export const SESSION_ABSOLUTE_MS = 30 * 24 * 3600_000;

export type SessionUser = { id: string; email: string; role: string };
export type ValidSession = { id: string; user: SessionUser; idleExpiresAt: Date; refreshed: boolean };

const hashSecret = (secret: string): Uint8Array => new Uint8Array(createHash("sha256").update(secret).digest());
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

export async function createSession(db: Db, userId: string, now: Date): Promise<{ token: string; idleExpiresAt: Date }> {
  const id = encodeBase32LowerCaseNoPadding(randomBytes(15));
  const secret = encodeBase32LowerCaseNoPadding(randomBytes(24));
  const idleExpiresAt = new Date(now.getTime() + SESSION_IDLE_MS);
  await db
    .insertInto("sessions")
    .values({
      id,
      user_id: userId,
      secret_hash: toHex(hashSecret(secret)),
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + SESSION_ABSOLUTE_MS).toISOString(),
      idle_expires_at: idleExpiresAt.toISOString(),
    })
    .execute();
  return { token: `${id}.${secret}`, idleExpiresAt };
}

export async function validateSession(db: Db, token: string, now: Date): Promise<ValidSession | null> {
  const dot = token.indexOf(".");
  if (dot <= 0 || token.length > 200) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  const row = await db
    .selectFrom("sessions")
    .innerJoin("users", "users.id", "sessions.user_id")
    .select(["sessions.id", "sessions.secret_hash", "sessions.expires_at", "sessions.idle_expires_at", "users.id as user_id", "users.email", "users.role", "users.disabled"])
    .where("sessions.id", "=", id)
    .executeTakeFirst();
  if (!row) return null;
  if (!constantTimeEqual(hashSecret(secret), new Uint8Array(Buffer.from(row.secret_hash, "hex")))) return null;
  const t = now.getTime();
  if (row.disabled || t >= Date.parse(row.expires_at) || t >= Date.parse(row.idle_expires_at)) {
    await db.deleteFrom("sessions").where("id", "=", id).execute();
    return null;
  }
  let idleExpiresAt = new Date(row.idle_expires_at);
  let refreshed = false;
  // Slide the idle expiry once half of it is used, never past the absolute expiry.
  if (idleExpiresAt.getTime() - t < SESSION_IDLE_MS / 2) {
    idleExpiresAt = new Date(Math.min(t + SESSION_IDLE_MS, Date.parse(row.expires_at)));
    await db.updateTable("sessions").set({ idle_expires_at: idleExpiresAt.toISOString() }).where("id", "=", id).execute();
    refreshed = true;
  }
  return { id, user: { id: row.user_id, email: row.email, role: row.role }, idleExpiresAt, refreshed };
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
  await db.deleteFrom("sessions").where("id", "=", sessionId).execute();
}

export async function invalidateUserSessions(db: Db, userId: string): Promise<void> {
  await db.deleteFrom("sessions").where("user_id", "=", userId).execute();
}

/** Cookie name and flags: `__Host-` and Secure under https; plain http is for a local trial only. */
export function sessionCookieName(secure: boolean): string {
  return secure ? "__Host-jit_session" : "jit_session";
}

export function serializeSessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return `${sessionCookieName(secure)}=${token}; Path=/; HttpOnly; SameSite=Lax; Expires=${expiresAt.toUTCString()}${secure ? "; Secure" : ""}`;
}

export function clearSessionCookie(secure: boolean): string {
  return `${sessionCookieName(secure)}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? "; Secure" : ""}`;
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
