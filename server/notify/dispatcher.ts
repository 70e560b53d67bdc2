// The notification dispatcher (issue 9): tails the audit trail from a cursor (settings key `notifications.cursor`)
// and, for each event that maps to a notification kind, asks every channel for its deliveries, inserting them and
// moving the cursor in one transaction, so each event fans out exactly once. Then it sends what is due: per
// (channel, target) strictly in event order (a later delivery waits while an earlier one is pending), different
// targets in parallel, each attempt with a timeout, failures retried with back-off until they succeed or give up.
// On PostgreSQL every server runs one: fan-out takes turns on an advisory lock, and a send first claims its
// delivery with a conditional update (a lease), so two servers never send the same delivery at once.
// Nothing here is on the request path: it wakes on the change feed and on a timer, and only logs its failures.
import { sql } from "kysely";
import { notificationKindOf, retryDelayMs } from "../../core/notifications";
import type { NotificationDeliveriesTable } from "../db/schema";
import type { ServiceContext } from "../services/context";
import { newId } from "../util";
import type { Channel, DeliveryOutcome, NotifyConfig } from "./types";

export const CURSOR_KEY = "notifications.cursor";
/** PostgreSQL advisory lock for fan-out (events.ts uses 7301, the sweeper 7302). */
export const NOTIFY_LOCK_KEY = 7303;

export type RetryPolicy = {
  /** The first retry waits about this long; each next one twice as long (±20 % jitter)… */
  baseMs: number;
  /** …but never longer than this. */
  capMs: number;
  /** A delivery still failing this long after it was made is given up (status failed)… */
  maxAgeMs: number;
  /** …as is one that failed this many times. */
  maxAttempts: number;
};
const LOG_KEEP_MS = 30 * 86_400_000;
export const DEFAULT_RETRY: RetryPolicy = { baseMs: 1_000, capMs: 300_000, maxAgeMs: 24 * 3_600_000, maxAttempts: 500 };

export type DispatcherOptions = {
  now?: () => Date;
  /** The longest it sleeps between looks (default 5 s). */
  pollMs?: number;
  retry?: Partial<RetryPolicy>;
  /** How many targets are sent to at once (default 4). */
  concurrency?: number;
  /** A claimed delivery is someone else's to retry after this long (default 60 s; longer than any send's timeout). */
  leaseMs?: number;
  /** Events per fan-out transaction (default 200). */
  batch?: number;
  random?: () => number;
};

export type Dispatcher = {
  /** Fans out new events and sends what is due; resolves when that pass is done. */
  dispatchNow: () => Promise<void>;
  /** Looks again soon (debounced): after a change, or when an admin asks to retry now. */
  wake: () => void;
  stop: () => Promise<void>;
  readonly channels: readonly Channel[];
  readonly config: NotifyConfig;
};

/** The running dispatcher of a server's services (for the tRPC router: send test, retry now). */
const registry = new WeakMap<object, Dispatcher>();
export function dispatcherOf(services: object): Dispatcher | null {
  return registry.get(services) ?? null;
}

type Row = Pick<NotificationDeliveriesTable, "id" | "channel" | "target_id" | "event_seq" | "payload" | "attempts" | "next_attempt_at" | "created_at">;
const ROW_COLUMNS = ["id", "channel", "target_id", "event_seq", "payload", "attempts", "next_attempt_at", "created_at"] as const;

/** Where a new dispatcher starts: at the end of the trail, so an upgrade does not page everyone about the past. */
async function initCursor(ctx: ServiceContext): Promise<void> {
  const have = await ctx.db.selectFrom("settings").select("value").where("key", "=", CURSOR_KEY).executeTakeFirst();
  if (have) return;
  const last = await ctx.db.selectFrom("events").select((eb) => eb.fn.max("seq").as("seq")).executeTakeFirst();
  const cp = await ctx.db.selectFrom("audit_checkpoints").select((eb) => eb.fn.max("seq").as("seq")).executeTakeFirst();
  const seq = Math.max(Number(last?.seq ?? 0), Number(cp?.seq ?? 0));
  await ctx.db
    .insertInto("settings")
    .values({ key: CURSOR_KEY, value: String(seq), updated_at: ctx.now().toISOString() })
    .onConflict((oc) => oc.column("key").doNothing())
    .execute();
}

export async function startDispatcher(services: ServiceContext, channels: Channel[], config: NotifyConfig, opts: DispatcherOptions = {}): Promise<Dispatcher> {
  const ctx: ServiceContext = opts.now ? { ...services, now: opts.now } : services;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const pollMs = opts.pollMs ?? 5_000;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const leaseMs = opts.leaseMs ?? 60_000;
  const batch = opts.batch ?? 200;
  const random = opts.random ?? Math.random;
  const byName = new Map<string, Channel>(channels.map((c) => [c.name, c]));
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  let failures = 0;
  let prunedAt = 0;

  await initCursor(ctx);

  /** The delivery log keeps 30 days of finished deliveries (looked at once an hour). */
  async function pruneLog(): Promise<void> {
    const now = ctx.now().getTime();
    if (now - prunedAt < 3_600_000) return;
    prunedAt = now;
    const before = new Date(now - LOG_KEEP_MS).toISOString();
    await ctx.db.deleteFrom("notification_deliveries").where("status", "!=", "pending").where("created_at", "<", before).execute();
  }

  /** One fan-out transaction: true when it consumed events (there may be more). */
  async function fanOutBatch(): Promise<boolean> {
    return ctx.db.transaction().execute(async (trx) => {
      if (ctx.dialect === "postgres") {
        const got = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${sql.lit(NOTIFY_LOCK_KEY)}) as ok`.execute(trx);
        if (!got.rows[0]?.ok) return false; // another server is fanning out right now
      }
      const row = await trx.selectFrom("settings").select("value").where("key", "=", CURSOR_KEY).executeTakeFirst();
      const cursor = Number(row?.value ?? 0) || 0;
      const events = await trx.selectFrom("events").selectAll().where("seq", ">", cursor).orderBy("seq", "asc").limit(batch).execute();
      if (events.length === 0) return false;
      const now = ctx.now().toISOString();
      const rows: NotificationDeliveriesTable[] = [];
      for (const event of events) {
        const kind = notificationKindOf(event.type);
        if (!kind) continue;
        for (const channel of channels) {
          const made = await channel.fanOut(ctx, trx, { kind, event });
          for (const d of made) {
            rows.push({
              id: newId(),
              channel: channel.name,
              target_id: d.targetId,
              event_seq: Number(event.seq),
              event_type: event.type,
              payload: JSON.stringify(d.payload),
              status: "pending",
              attempts: 0,
              next_attempt_at: now,
              last_error: null,
              last_status: null,
              created_at: now,
              delivered_at: null,
            });
          }
        }
      }
      for (let i = 0; i < rows.length; i += 100) await trx.insertInto("notification_deliveries").values(rows.slice(i, i + 100)).execute();
      const last = String(events[events.length - 1]!.seq);
      await trx
        .insertInto("settings")
        .values({ key: CURSOR_KEY, value: last, updated_at: now })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value: last, updated_at: now }))
        .execute();
      return true;
    });
  }

  /** The first pending delivery of each (channel, target): the only one that may be sent. */
  async function heads(target?: { channel: string; targetId: string }): Promise<Row[]> {
    let q = ctx.db
      .selectFrom("notification_deliveries as d")
      .select(ROW_COLUMNS.map((c) => `d.${c}` as const))
      .where("d.status", "=", "pending")
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("notification_deliveries as e")
              .select("e.id")
              .where("e.status", "=", "pending")
              .whereRef("e.channel", "=", "d.channel")
              .whereRef("e.target_id", "=", "d.target_id")
              .where((eb) => eb.or([eb("e.event_seq", "<", eb.ref("d.event_seq")), eb.and([eb("e.event_seq", "=", eb.ref("d.event_seq")), eb("e.id", "<", eb.ref("d.id"))])])),
          ),
        ),
      );
    if (target) q = q.where("d.channel", "=", target.channel).where("d.target_id", "=", target.targetId);
    return q.orderBy("d.next_attempt_at").limit(target ? 1 : 1000).execute();
  }

  async function record(row: Row, outcome: DeliveryOutcome, channel: Channel | undefined): Promise<"done" | "wait"> {
    const now = ctx.now();
    const attempts = Number(row.attempts) + 1;
    const base = { attempts, last_status: outcome.status ?? null };
    if (outcome.ok) {
      await ctx.db.updateTable("notification_deliveries").set({ ...base, status: "delivered", last_error: null, delivered_at: now.toISOString() }).where("id", "=", row.id).execute();
      return "done";
    }
    const error = outcome.error.slice(0, 500);
    if (outcome.drop) {
      await ctx.db.updateTable("notification_deliveries").set({ ...base, status: "dropped", last_error: error }).where("id", "=", row.id).execute();
      // The target is gone: whatever else waits for it goes too.
      await ctx.db
        .updateTable("notification_deliveries")
        .set({ status: "dropped", last_error: error })
        .where("channel", "=", row.channel)
        .where("target_id", "=", row.target_id)
        .where("status", "=", "pending")
        .execute();
      await channel?.onDrop?.(ctx, row.target_id).catch((err: unknown) => ctx.log.warn({ err, channel: row.channel }, "notification target clean-up failed"));
      return "done";
    }
    const age = now.getTime() - Date.parse(row.created_at);
    if (!outcome.retry || attempts >= retry.maxAttempts || age >= retry.maxAgeMs) {
      const why = outcome.retry ? `${error} (gave up after ${attempts} attempts)` : error;
      await ctx.db.updateTable("notification_deliveries").set({ ...base, status: "failed", last_error: why }).where("id", "=", row.id).execute();
      ctx.log.warn({ channel: row.channel, target: row.target_id, delivery: row.id, seq: row.event_seq, error: why }, "notification delivery failed");
      return "done";
    }
    const next = new Date(now.getTime() + retryDelayMs(attempts, retry, random())).toISOString();
    await ctx.db.updateTable("notification_deliveries").set({ ...base, last_error: error, next_attempt_at: next }).where("id", "=", row.id).execute();
    return "wait";
  }

  /** Sends one target's deliveries in order, while they are due and succeed. */
  async function drainTarget(first: Row): Promise<void> {
    let head: Row | undefined = first;
    while (head && !stopped && head.next_attempt_at <= ctx.now().toISOString()) {
      const channel = byName.get(head.channel);
      // Claim it: the update succeeds for one sender only; the lease makes a crashed sender's claim expire.
      const lease = new Date(ctx.now().getTime() + leaseMs).toISOString();
      const claimed = await ctx.db
        .updateTable("notification_deliveries")
        .set({ next_attempt_at: lease })
        .where("id", "=", head.id)
        .where("status", "=", "pending")
        .where("next_attempt_at", "=", head.next_attempt_at)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) return;
      let outcome: DeliveryOutcome;
      if (!channel) {
        outcome = { ok: false, error: `The ${head.channel} channel is not configured on this server`, retry: true };
      } else {
        let payload: unknown = null;
        try {
          payload = JSON.parse(head.payload);
        } catch {
          // deliver() refuses an unreadable payload
        }
        outcome = await channel
          .deliver(ctx, { id: head.id, targetId: head.target_id, payload, attempts: Number(head.attempts) })
          .catch((e: unknown) => ({ ok: false as const, error: (e as Error).message ?? String(e), retry: true }));
      }
      if ((await record(head, outcome, channel)) === "wait") return;
      [head] = await heads({ channel: head.channel, targetId: head.target_id });
    }
  }

  async function sendDue(): Promise<void> {
    const now = ctx.now().toISOString();
    const due = (await heads()).filter((h) => h.next_attempt_at <= now && byName.has(h.channel));
    let next = 0;
    const worker = async () => {
      while (next < due.length && !stopped) {
        const h = due[next++]!;
        await drainTarget(h).catch((err: unknown) => ctx.log.error({ err, channel: h.channel }, "sending notifications failed"));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
  }

  async function pass(): Promise<void> {
    try {
      while (!stopped && (await fanOutBatch()));
      if (!stopped) await sendDue();
      if (!stopped) await pruneLog();
      if (failures > 0) ctx.log.info("notifications resumed");
      failures = 0;
    } catch (err) {
      if (stopped) return;
      failures += 1;
      if (failures === 1 || failures % 20 === 0) ctx.log.error({ err, failures }, "notification dispatcher failed; it tries again shortly");
    }
  }

  async function scheduleNext(): Promise<void> {
    if (stopped) return;
    let wait = failures > 0 ? Math.min(pollMs, 250 * 2 ** Math.min(failures, 5)) : pollMs;
    if (failures === 0) {
      const soonest = (await heads().catch(() => [] as Row[])).filter((h) => byName.has(h.channel)).map((h) => Date.parse(h.next_attempt_at));
      if (soonest.length > 0) wait = Math.min(wait, Math.min(...soonest) - ctx.now().getTime());
    }
    schedule(wait);
  }

  function schedule(ms: number) {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void dispatchNow(), Math.max(10, ms));
    timer.unref();
  }

  function dispatchNow(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (!running) {
      if (timer) clearTimeout(timer);
      timer = null;
      running = pass().finally(async () => {
        running = null;
        if (!queued) await scheduleNext().catch(() => schedule(pollMs));
      });
      return running;
    }
    queued ??= running.then(() => {
      queued = null;
      return dispatchNow();
    });
    return queued;
  }

  let debounce: NodeJS.Timeout | null = null;
  const wake = () => {
    if (stopped || debounce) return;
    debounce = setTimeout(() => {
      debounce = null;
      void dispatchNow();
    }, 25);
    debounce.unref();
  };
  // Most notifiable events come with a change (requests, policies); the timer catches the rest.
  const unsubscribe = services.feed.subscribe(() => wake());

  const dispatcher: Dispatcher = {
    dispatchNow,
    wake,
    channels,
    config,
    async stop() {
      stopped = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
      if (debounce) clearTimeout(debounce);
      // A send in flight may wait for its timeout: give it a moment, then leave it (its claim lapses after the lease
      // and another start sends it again).
      const inFlight = Promise.all([running?.catch(() => {}), queued?.catch(() => {})]);
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise<void>((r) => (grace = setTimeout(r, 2_000)))]);
      clearTimeout(grace);
      registry.delete(services);
    },
  };
  registry.set(services, dispatcher);
  void dispatchNow();
  return dispatcher;
}
