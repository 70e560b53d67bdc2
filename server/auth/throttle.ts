// Failed sign-ins are throttled per account and per address. An account locks after a few failures, for a time
// that doubles with each further failure; an address locks after many failures in a window.
import type { Db } from "../db/schema";

export const ACCOUNT_FREE_FAILURES = 5;
export const ACCOUNT_BASE_LOCK_MS = 30_000;
export const ACCOUNT_MAX_LOCK_MS = 15 * 60_000;
export const ADDRESS_MAX_FAILURES = 30;
export const ADDRESS_WINDOW_MS = 15 * 60_000;

export type ThrottleKeys = { account: string; address: string };

const accountKey = (email: string) => `account:${email.toLowerCase()}`;
const addressKey = (ip: string) => `address:${ip}`;

/** Milliseconds until a sign-in may be tried again, or 0 when it may be tried now. */
export async function retryAfterMs(db: Db, email: string, ip: string, now: Date): Promise<number> {
  const rows = await db.selectFrom("login_throttle").selectAll().where("key", "in", [accountKey(email), addressKey(ip)]).execute();
  let wait = 0;
  for (const r of rows) if (r.locked_until) wait = Math.max(wait, Date.parse(r.locked_until) - now.getTime());
  return Math.max(0, wait);
}

export async function recordFailure(db: Db, email: string, ip: string, now: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const [key, isAccount] of [[accountKey(email), true], [addressKey(ip), false]] as const) {
      const row = await trx.selectFrom("login_throttle").selectAll().where("key", "=", key).executeTakeFirst();
      let failures = 1;
      let first = now;
      if (row && (isAccount || now.getTime() - Date.parse(row.first_failure_at) < ADDRESS_WINDOW_MS)) {
        failures = row.failures + 1;
        first = new Date(row.first_failure_at);
      }
      let lockedUntil: string | null = null;
      if (isAccount && failures >= ACCOUNT_FREE_FAILURES) {
        const ms = Math.min(ACCOUNT_MAX_LOCK_MS, ACCOUNT_BASE_LOCK_MS * 2 ** (failures - ACCOUNT_FREE_FAILURES));
        lockedUntil = new Date(now.getTime() + ms).toISOString();
      } else if (!isAccount && failures >= ADDRESS_MAX_FAILURES) {
        lockedUntil = new Date(now.getTime() + ADDRESS_WINDOW_MS).toISOString();
      }
      const values = { failures, first_failure_at: first.toISOString(), locked_until: lockedUntil };
      await trx
        .insertInto("login_throttle")
        .values({ key, ...values })
        .onConflict((oc) => oc.column("key").doUpdateSet(values))
        .execute();
    }
  });
}

export async function recordSuccess(db: Db, email: string): Promise<void> {
  await db.deleteFrom("login_throttle").where("key", "=", accountKey(email)).execute();
}
