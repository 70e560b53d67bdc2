// Console users: the first owner, sign-in with throttling, sign-out.
import { AppError } from "../../core/app-error";
import type { ConsoleUser } from "../../core/console-api";
import type { Role } from "../../core/roles";
import { hashPassword, verifyPassword } from "../auth/password";
import { createSession, invalidateSession } from "../auth/sessions";
import { recordFailure, recordSuccess, retryAfterMs } from "../auth/throttle";
import { newId } from "../util";
import { appendEvent } from "./events";
import type { ServiceContext } from "./context";

export async function hasAnyUser(ctx: ServiceContext): Promise<boolean> {
  return Boolean(await ctx.db.selectFrom("users").select("id").limit(1).executeTakeFirst());
}

/** Makes a console user. `onlyIfNone` makes the first owner: refused once any user exists (checked in the transaction). */
export async function createUser(
  ctx: ServiceContext,
  input: { email: string; password: string; role: Role },
  opts: { onlyIfNone: boolean; actor: ConsoleUser | null },
): Promise<ConsoleUser> {
  const passwordHash = await hashPassword(input.password);
  const now = ctx.now();
  const email = input.email.trim().toLowerCase();
  return ctx.db.transaction().execute(async (trx) => {
    if (opts.onlyIfNone && (await trx.selectFrom("users").select("id").limit(1).executeTakeFirst())) {
      throw new AppError("conflict", "The owner account exists already. Sign in instead.");
    }
    if (await trx.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst()) {
      throw new AppError("conflict", `A console user ${email} exists already.`);
    }
    const user = { id: newId(), email, role: input.role };
    await trx
      .insertInto("users")
      .values({ ...user, password_hash: passwordHash, disabled: 0, created_at: now.toISOString(), updated_at: now.toISOString() })
      .execute();
    await appendEvent(
      trx,
      ctx.dialect,
      {
        type: "user.created",
        actor: opts.actor ? { type: "user", id: opts.actor.id, name: opts.actor.email } : { type: "system", name: "setup" },
        detail: { email, role: input.role },
      },
      now,
    );
    return user;
  });
}

export type SignInResult = { user: ConsoleUser; token: string; expiresAt: Date };

export async function signIn(ctx: ServiceContext, email: string, password: string, address: string): Promise<SignInResult> {
  const now = ctx.now();
  const key = email.trim().toLowerCase();
  const wait = await retryAfterMs(ctx.db, key, address, now);
  if (wait > 0) {
    throw new AppError("too_many_requests", `Too many failed sign-ins. Try again in ${Math.ceil(wait / 1000)} seconds.`, { retryAfterSeconds: Math.ceil(wait / 1000) });
  }
  const row = await ctx.db.selectFrom("users").selectAll().where("email", "=", key).executeTakeFirst();
  const ok = await verifyPassword(row && !row.disabled ? row.password_hash : null, password);
  if (!row || !ok) {
    await recordFailure(ctx.db, key, address, now);
    await ctx.db.transaction().execute((trx) =>
      appendEvent(trx, ctx.dialect, { type: "console.sign_in_failed", actor: { type: "system", name: address }, detail: { email: key, address } }, now),
    );
    throw new AppError("unauthorized", "Wrong email or password.");
  }
  await recordSuccess(ctx.db, key);
  const session = await createSession(ctx.db, row.id, now);
  const user = { id: row.id, email: row.email, role: row.role as Role };
  await ctx.db.transaction().execute((trx) =>
    appendEvent(trx, ctx.dialect, { type: "console.sign_in", actor: { type: "user", id: user.id, name: user.email }, detail: { address } }, now),
  );
  return { user, token: session.token, expiresAt: session.idleExpiresAt };
}

export async function signOut(ctx: ServiceContext, sessionId: string, user: ConsoleUser): Promise<void> {
  await invalidateSession(ctx.db, sessionId);
  await ctx.db.transaction().execute((trx) =>
    appendEvent(trx, ctx.dialect, { type: "console.sign_out", actor: { type: "user", id: user.id, name: user.email } }, ctx.now()),
  );
}

export async function listUsers(ctx: ServiceContext): Promise<(ConsoleUser & { disabled: boolean; createdAt: string })[]> {
  const rows = await ctx.db.selectFrom("users").select(["id", "email", "role", "disabled", "created_at"]).orderBy("email").execute();
  return rows.map((r) => ({ id: r.id, email: r.email, role: r.role as Role, disabled: Boolean(r.disabled), createdAt: r.created_at }));
}
