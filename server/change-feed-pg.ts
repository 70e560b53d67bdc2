// The change feed across server processes: PostgreSQL LISTEN/NOTIFY. A change is delivered to this process's
// listeners at once and NOTIFYed to the others; each process LISTENs on one dedicated connection (not from the pool).
// Payloads say what changed, never secrets; a change too large for one NOTIFY is split (or, for bundles, coalesced to "all").
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import pg from "pg";
import type { Logger } from "pino";
import type { Change, ChangeFeed } from "./change-feed";

export const CHANNEL = "jit_changes";
/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7000;

export type PostgresChangeFeed = ChangeFeed & { ready: Promise<void>; close: () => Promise<void> };

/**
 * What a change looks like on the wire: one payload, or several when it names too many things for one NOTIFY
 * (the list is split; nothing is dropped). A bundle change naming too many computers becomes "all".
 */
export function encodeChange(origin: string, change: Change): string[] {
  const text = JSON.stringify({ o: origin, c: change });
  if (text.length <= MAX_PAYLOAD) return [text];
  if (change.kind === "bundle") return [JSON.stringify({ o: origin, c: { kind: "bundle", computerIds: "all" } })];
  // Split the longest list (ids, or whatever a newer kind carries) into payloads that fit.
  const fields = Object.entries(change).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
  const longest = fields.sort((x, y) => JSON.stringify(y[1]).length - JSON.stringify(x[1]).length)[0];
  const rest = JSON.stringify({ o: origin, c: { ...change, ...(longest ? { [longest[0]]: [] } : {}) } }).length;
  if (!longest || rest > MAX_PAYLOAD) return [JSON.stringify({ o: origin, c: { kind: "resync" } })];
  const out: string[] = [];
  let chunk: unknown[] = [];
  let size = rest;
  for (const item of longest[1]) {
    const n = JSON.stringify(item).length + 1;
    if (chunk.length > 0 && size + n > MAX_PAYLOAD) {
      out.push(JSON.stringify({ o: origin, c: { ...change, [longest[0]]: chunk } }));
      chunk = [];
      size = rest;
    }
    chunk.push(item);
    size += n;
  }
  if (chunk.length > 0) out.push(JSON.stringify({ o: origin, c: { ...change, [longest[0]]: chunk } }));
  return out;
}

export function createPostgresChangeFeed(opts: { connectionString: string; publish: (payload: string) => Promise<unknown>; log: Logger }): PostgresChangeFeed {
  const origin = randomUUID();
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  let attempt = 0;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));

  const deliver = (change: Change) => void emitter.emit("change", change);

  async function connect(): Promise<void> {
    if (closed) return;
    // keepAlive: a connection that died silently (a dropped network path) errors instead of listening to nothing.
    const c = new pg.Client({ connectionString: opts.connectionString, keepAlive: true });
    c.on("notification", (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      try {
        const { o, c: change } = JSON.parse(msg.payload) as { o: string; c: Change };
        if (o !== origin) deliver(change);
      } catch {
        opts.log.warn("ignored a malformed change notification");
      }
    });
    c.on("error", (err) => {
      opts.log.warn({ err: err.message }, "change feed connection lost; reconnecting");
      void c.end().catch(() => {});
      if (client === c) client = null;
      schedule();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
      client = c;
      if (attempt > 0) {
        // Changes made while we were not listening are unknown: wake everyone to look again.
        deliver({ kind: "bundle", computerIds: "all" });
        deliver({ kind: "resync" });
      }
      attempt = 0;
      resolveReady();
    } catch (err) {
      void c.end().catch(() => {});
      opts.log.warn({ err: (err as Error).message }, "change feed could not LISTEN; retrying");
      schedule();
    }
  }

  function schedule(): void {
    if (closed || retry) return;
    attempt++;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7)) * (0.5 + Math.random() / 2);
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, delay);
  }

  void connect();

  return {
    ready,
    publish(change) {
      deliver(change);
      for (const payload of encodeChange(origin, change)) {
        opts.publish(payload).catch((err: unknown) => {
          opts.log.warn({ err: (err as Error).message, kind: change.kind }, "could not NOTIFY other servers of a change");
        });
      }
    },
    subscribe(listener) {
      emitter.on("change", listener);
      return () => void emitter.off("change", listener);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
