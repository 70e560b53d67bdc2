// SIEM forwarding: every event, in order, as JSON Lines to a file (AUDIT_FILE) and as RFC 5424 syslog over TCP
// (octet-counted framing, RFC 6587) or UDP (AUDIT_SYSLOG). Each sink tails the events table from its own cursor
// (kept in the settings table), so forwarding never sits on the request path: a down receiver only delays it.
// A batch counts as sent once the socket or the file accepted it; until then it is retried with back-off. After a
// TCP connection drops, the last few seconds are sent again (each message carries the event's seq and id, so a
// receiver can drop the duplicates): at-least-once, in order.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { open, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { connect, type Socket } from "node:net";
import type { Logger } from "pino";
import { jsonLine, syslogMessage, type EventView } from "../core/audit";
import type { ServiceContext } from "./services/context";
import { toView } from "./services/events";

export type SyslogTarget = { protocol: "tcp" | "udp"; host: string; port: number };

export interface AuditSink {
  readonly name: string;
  /** Resolves once every event was accepted by the file or the socket; rejects to be retried. */
  send(events: EventView[]): Promise<void>;
  /** After a dropped connection: resend from this seq (events the peer may not have received). */
  takeRewind?(): number | null;
  close(): Promise<void>;
}

export function fileSink(path: string): AuditSink {
  let fh: FileHandle | null = null;
  return {
    name: "file",
    async send(events) {
      try {
        fh ??= await open(path, "a", 0o600);
        await fh.write(events.map(jsonLine).join(""));
        await fh.datasync();
      } catch (e) {
        await fh?.close().catch(() => {});
        fh = null;
        throw e;
      }
    },
    async close() {
      await fh?.close().catch(() => {});
      fh = null;
    },
  };
}

const RESEND_WINDOW_MS = 3_000;

export function syslogSink(target: SyslogTarget): AuditSink {
  const host = hostname();
  const procId = String(process.pid);
  if (target.protocol === "udp") {
    let sock: UdpSocket | null = null;
    return {
      name: "syslog",
      async send(events) {
        sock ??= createSocket(target.host.includes(":") ? "udp6" : "udp4");
        for (const e of events) {
          const msg = Buffer.from(syslogMessage(e, host, procId));
          await new Promise<void>((resolve, reject) => sock!.send(msg, target.port, target.host, (err) => (err ? reject(err) : resolve())));
        }
      },
      async close() {
        sock?.close();
        sock = null;
      },
    };
  }
  let sock: Socket | null = null;
  let recent: { seq: number; at: number }[] = [];
  let rewind: number | null = null;
  const dropped = (s: Socket) => {
    if (sock !== s) return;
    sock = null;
    const since = Date.now() - RESEND_WINDOW_MS;
    const first = recent.find((r) => r.at >= since);
    if (first) rewind = rewind === null ? first.seq : Math.min(rewind, first.seq);
    recent = [];
  };
  const connectOnce = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: target.host, port: target.port });
      s.setNoDelay(true);
      s.setKeepAlive(true, 10_000);
      const timer = setTimeout(() => s.destroy(new Error("connect timed out")), 5_000);
      s.once("connect", () => {
        clearTimeout(timer);
        s.on("error", () => dropped(s));
        s.on("end", () => (dropped(s), s.destroy()));
        s.on("close", () => dropped(s));
        s.on("data", () => {}); // a receiver that talks back is ignored
        resolve(s);
      });
      s.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  return {
    name: "syslog",
    async send(events) {
      if (!sock || sock.destroyed) sock = await connectOnce();
      const s = sock;
      const payload = events
        .map((e) => {
          const msg = syslogMessage(e, host, procId);
          return `${Buffer.byteLength(msg)} ${msg}`;
        })
        .join("");
      await new Promise<void>((resolve, reject) => {
        s.write(payload, (err) => (err ? reject(err) : resolve()));
      });
      if (sock !== s) throw new Error("the syslog connection dropped");
      const now = Date.now();
      for (const e of events) recent.push({ seq: e.seq, at: now });
      const since = now - RESEND_WINDOW_MS;
      while (recent.length && recent[0]!.at < since) recent.shift();
    },
    takeRewind() {
      const r = rewind;
      rewind = null;
      return r;
    },
    async close() {
      sock?.end();
      sock?.destroy();
      sock = null;
    },
  };
}

/** AUDIT_SYSLOG: tcp://host:port or udp://host:port. */
export function parseSyslogTarget(text: string): SyslogTarget | null {
  const m = /^(tcp|udp):\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { protocol: m[1] as "tcp" | "udp", host: m[2]!.replace(/^\[|\]$/g, ""), port };
}

export type Forwarder = { stop: () => Promise<void>; /** Resolves when the sink has sent every event up to seq. */ caughtUp: (seq: number) => Promise<void> };

/** Tails the events table into one sink until stopped. */
export function startForwarding(ctx: ServiceContext, sink: AuditSink, opts: { log: Logger; pollMs?: number; batch?: number }): Forwarder {
  const key = `audit.forward.${sink.name}`;
  const pollMs = opts.pollMs ?? 250;
  const batch = opts.batch ?? 200;
  let stopped = false;
  let wake: (() => void) | null = null;
  let cursor = 0;
  const waiters: { seq: number; resolve: () => void }[] = [];
  const pause = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(() => ((wake = null), r()), ms);
      wake = () => (clearTimeout(t), (wake = null), r());
    });

  const saveCursor = async (seq: number) => {
    const now = ctx.now().toISOString();
    await ctx.db
      .insertInto("settings")
      .values({ key, value: String(seq), updated_at: now })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value: String(seq), updated_at: now }))
      .execute();
  };

  const loop = (async () => {
    const saved = await ctx.db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst().catch(() => undefined);
    cursor = saved ? Number(saved.value) || 0 : 0;
    let failures = 0;
    while (!stopped) {
      try {
        const rewindTo = sink.takeRewind?.() ?? null;
        if (rewindTo !== null && rewindTo <= cursor) cursor = rewindTo - 1;
        const rows = await ctx.db.selectFrom("events").selectAll().where("seq", ">", cursor).orderBy("seq", "asc").limit(batch).execute();
        if (rows.length === 0) {
          for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]!.seq <= cursor) waiters.splice(i, 1)[0]!.resolve();
          await pause(pollMs);
          continue;
        }
        const events = rows.map(toView);
        await sink.send(events);
        cursor = events[events.length - 1]!.seq;
        await saveCursor(cursor);
        if (failures > 0) opts.log.info({ sink: sink.name, seq: cursor }, "audit forwarding resumed");
        failures = 0;
      } catch (err) {
        if (stopped) break;
        failures += 1;
        if (failures === 1 || failures % 20 === 0) opts.log.warn({ sink: sink.name, err: (err as Error).message, failures }, "audit forwarding failed; retrying");
        await pause(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)));
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await sink.close();
    },
    caughtUp(seq) {
      if (seq <= cursor) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ seq, resolve }));
    },
  };
}
