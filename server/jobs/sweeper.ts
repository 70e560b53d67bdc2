// The expiry sweeper: ends approved access when its time is up and lapses requests nobody answered, each with one
// event (the end is a conditional update, so two sweepers, or a sweeper and a revoke, never both record it).
// It sweeps once at start, which catches up on everything that fell due while the server was down, then sleeps
// until the next deadline it knows of (at most maxIntervalMs), and wakes early when a request changes.
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

export function startSweeper(services: ServiceContext, opts: SweeperOptions = {}): Sweeper {
  const ctx: ServiceContext = opts.now ? { ...services, now: opts.now } : services;
  const maxInterval = opts.maxIntervalMs ?? 5_000;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<{ expired: number; lapsed: number }> | null = null;
  let again = false;

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
        // Deployed policies past their end are recorded as expired (issue 3); a failure there never stops the rest.
        await expirePolicies(ctx).catch((e: unknown) => ctx.log.error({ err: e }, "recording expired policies failed"));
        const r = await sweepRequests(ctx);
        if (r.expired || r.lapsed) ctx.log.info(r, "sweeper ended requests");
        return r;
      } catch (e) {
        if (!stopped) ctx.log.error({ err: e }, "sweeper failed; it tries again shortly");
        return { expired: 0, lapsed: 0 };
      } finally {
        running = null;
        if (!stopped) {
          if (again) {
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
    if (c.kind !== "requests" || stopped || running || pendingLook) return;
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
