// The expiry sweeper: ends approved access when its time is up and lapses requests nobody answered, each with one
// event (the end is a conditional update, so two sweepers, or a sweeper and a revoke, never both record it).
// On PostgreSQL every server runs one, but only the one holding an advisory lock sweeps at a time.
// It sweeps once at start, which catches up on everything that fell due while the server was down, then sleeps
// until the next deadline it knows of (at most maxIntervalMs), and wakes early when a request changes.
import { sql } from "kysely";
import type { ServiceContext } from "../services/context";
import { nextSweepAt, sweepRequests } from "../services/requests";
import { expirePolicies } from "../services/policies";

export type SweeperOptions = {
  /** The clock (defaults to the services' clock): injected by tests. */
  now?: () => Date;
  /** The longest it sleeps between sweeps, in ms (default 5 s). */
  maxIntervalMs?: number;
};

export type Sweeper = {
  /** Sweeps now (and reschedules); resolves with what it ended. */
  sweepNow: () => Promise<{ expired: number; lapsed: number }>;
  stop: () => Promise<void>;
};

/** The PostgreSQL advisory lock key under which one server at a time sweeps (events.ts uses 7301). */
export const SWEEP_LOCK_KEY = 7302;
/** How soon a server that found another one sweeping looks again. */
const LOCKED_OUT_RETRY_MS = 250;

/**
 * Runs `work` while holding the sweep lock; null when another server holds it. On PostgreSQL the lock is a
 * transaction-level advisory lock on one pooled session, released when the transaction ends, or by the database
 * when the session or the server dies, so a crashed sweeper never blocks the others. SQLite has one server.
 */
async function underSweepLock<T>(ctx: ServiceContext, work: () => Promise<T>): Promise<T | null> {
  if (ctx.dialect !== "postgres") return work();
  return ctx.db.transaction().execute(async (trx) => {
    const got = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${sql.lit(SWEEP_LOCK_KEY)}) as ok`.execute(trx);
    if (!got.rows[0]?.ok) return null;
    return work();
  });
}

export function startSweeper(services: ServiceContext, opts: SweeperOptions = {}): Sweeper {
  const ctx: ServiceContext = opts.now ? { ...services, now: opts.now } : services;
  const maxInterval = opts.maxIntervalMs ?? 5_000;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<{ expired: number; lapsed: number }> | null = null;
  let again = false;
  let lockedOut = false;

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void sweepNow().catch(() => {}), Math.max(10, Math.min(ms, maxInterval)));
    timer.unref();
  };

  async function reschedule(): Promise<void> {
    const next = await nextSweepAt(ctx);
    schedule(next === null ? maxInterval : next - ctx.now().getTime());
  }

  async function sweepNow(): Promise<{ expired: number; lapsed: number }> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        const r = await underSweepLock(ctx, async () => {
          // Deployed policies past their end are recorded as expired (issue 3); a failure there never stops the rest.
          const ended = await expirePolicies(ctx).catch((e: unknown) => (ctx.log.error({ err: e }, "recording expired policies failed"), 0));
          // Consoles on every server show the new status (the agents end the policy on time by themselves).
          if (ended > 0) ctx.feed.publish({ kind: "policies" });
          return sweepRequests(ctx);
        });
        if (r === null) {
          // Another server is sweeping: look again shortly, so its work is taken over at once should it die.
          lockedOut = true;
          return { expired: 0, lapsed: 0 };
        }
        if (r.expired || r.lapsed) ctx.log.info(r, "sweeper ended requests");
        return r;
      } catch (e) {
        if (!stopped) ctx.log.error({ err: e }, "sweeper failed; it tries again shortly");
        return { expired: 0, lapsed: 0 };
      } finally {
        running = null;
        if (!stopped) {
          if (lockedOut) {
            lockedOut = false;
            schedule(LOCKED_OUT_RETRY_MS);
          } else if (again) {
            again = false;
            schedule(0);
          } else {
            await reschedule().catch(() => schedule(maxInterval));
          }
        }
      }
    })();
    return running;
  }

  // A new approval may end sooner than the deadline we sleep towards: look again, a little later (debounced).
  let pendingLook: NodeJS.Timeout | null = null;
  const unsubscribe = services.feed.subscribe((c) => {
    if ((c.kind !== "requests" && c.kind !== "resync") || stopped || running || pendingLook) return;
    pendingLook = setTimeout(() => {
      pendingLook = null;
      if (!running && !stopped) void reschedule().catch(() => {});
    }, 50);
    pendingLook.unref();
  });

  void sweepNow();

  return {
    sweepNow,
    async stop() {
      stopped = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
      if (pendingLook) clearTimeout(pendingLook);
      await running?.catch(() => {});
    },
  };
}
