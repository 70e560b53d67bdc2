// The agent's event reports (elevation allowed / denied, grant ended): queued on disk in the state dir (one file per
// event, written atomically, so a crash loses nothing and sends nothing twice as two events), sent by the daemon in
// batches to POST /agent/v1/events, and deleted only once the server acknowledged them. The server records each
// event id once, so a batch resent after a lost answer is harmless.
import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { AGENT_EVENTS_BATCH_MAX, AgentEventSchema, AgentEventsResponseSchema, type AgentEvent, type AgentEventInput } from "../core/agent-events";
import { AGENT_PROTOCOL_BASE } from "../core/protocol";
import { backoffDelayMs } from "./backoff";
import { AgentHttpError } from "./client";
import { withFailover } from "./servers";
import { ensureStateDir, readJsonFile, writeFileAtomic, type StateStore } from "./state";
import { loadCachedBundle } from "./trusted-bundle";
import { AGENT_VERSION } from "./version";

export const EVENTS_DIR = "events";
/** Beyond this many unsent events the oldest are kept and new ones dropped (and logged): the disk is not endless. */
export const QUEUE_LIMIT = 100_000;

const dirOf = (store: StateStore) => join(store.dir, EVENTS_DIR);

/** Adds one event to the queue; returns its id. */
export async function enqueueEvent(store: StateStore, event: Omit<AgentEventInput, "id"> & { id?: string }): Promise<string> {
  const full = AgentEventSchema.parse({ ...event, id: event.id ?? randomUUID() });
  const dir = dirOf(store);
  await ensureStateDir(store.dir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const names = await fs.readdir(dir);
  if (names.length >= QUEUE_LIMIT) throw new Error(`the event queue holds ${names.length} unsent events; not adding more until the server takes them`);
  // The name sorts by time, then id: the queue is sent in the order the events happened.
  const name = `${String(Date.parse(full.at)).padStart(15, "0")}-${full.id}.json`;
  await writeFileAtomic(join(dir, name), JSON.stringify(full) + "\n");
  return full.id;
}

export type QueuedEvent = { file: string; event: AgentEvent };

/** The oldest queued events, up to `max`. A file that does not parse is set aside (renamed *.bad), never sent. */
export async function pendingEvents(store: StateStore, max = AGENT_EVENTS_BATCH_MAX): Promise<QueuedEvent[]> {
  const dir = dirOf(store);
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: QueuedEvent[] = [];
  for (const name of names) {
    if (out.length >= max) break;
    const file = join(dir, name);
    let parsed: ReturnType<typeof AgentEventSchema.safeParse> | null = null;
    try {
      parsed = AgentEventSchema.safeParse(await readJsonFile(file));
    } catch {
      parsed = null;
    }
    if (parsed?.success) out.push({ file, event: parsed.data });
    else await fs.rename(file, `${file}.bad`).catch(() => {});
  }
  return out;
}

export async function queueLength(store: StateStore): Promise<number> {
  try {
    return (await fs.readdir(dirOf(store))).filter((n) => n.endsWith(".json") && !n.startsWith(".")).length;
  } catch {
    return 0;
  }
}

export async function postEvents(server: string, agentToken: string, events: AgentEvent[], signal?: AbortSignal): Promise<string[]> {
  const timeout = AbortSignal.timeout(30_000);
  let res: Response;
  try {
    res = await fetch(`${server}${AGENT_PROTOCOL_BASE}/events`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${agentToken}`, "User-Agent": `jit-agent/${AGENT_VERSION}`, "X-Agent-Version": AGENT_VERSION },
      body: JSON.stringify({ events }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: "manual",
    });
  } catch (e) {
    if (signal?.aborted) throw new AgentHttpError("aborted", "the request was cancelled");
    const cause = (e as { cause?: { code?: string } }).cause;
    throw new AgentHttpError(timeout.aborted ? "timeout" : "network", `cannot send events to ${new URL(server).origin}: ${cause?.code ?? (e as Error).message}`);
  }
  const text = await res.text().catch(() => "");
  if (res.status !== 200) {
    let message = `HTTP ${res.status}`;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // not our error shape
    }
    throw new AgentHttpError(res.status === 401 ? "unauthorized" : res.status >= 500 ? "server" : "rejected", message, res.status);
  }
  const parsed = AgentEventsResponseSchema.safeParse(JSON.parse(text || "null"));
  if (!parsed.success) throw new AgentHttpError("protocol", "the server's answer to the events report is not in the expected form", res.status);
  return parsed.data.accepted;
}

/** Sends the queue in batches until it is empty; deletes each acknowledged event. Returns how many were sent. */
export async function flushEvents(store: StateStore, signal?: AbortSignal): Promise<number> {
  const config = await store.loadConfig();
  if (!config) return 0;
  let sent = 0;
  for (;;) {
    const batch = await pendingEvents(store);
    if (batch.length === 0) return sent;
    // Resent to another server after a lost answer, the same event ids are recorded once.
    const acked = new Set(await withFailover(config, (server) => postEvents(server, config.agentToken, batch.map((q) => q.event), signal)));
    for (const q of batch) if (acked.has(q.event.id)) await fs.rm(q.file, { force: true });
    sent += batch.filter((q) => acked.has(q.event.id)).length;
    if (batch.some((q) => !acked.has(q.event.id))) return sent;
  }
}

// ---- Grants ending on this computer ------------------------------------------------------------------------

const GRANT_WATCH = "grant-watch.json";
type GrantWatch = { active: Record<string, { requestId: string; user: string; endsAt: string; name: string }> };

/**
 * Notes the grants in force in the cached bundle and queues `grant_ended` for each that ran out (its end passed)
 * or went away (revoked or ended early) since the last look.
 */
export async function watchGrants(store: StateStore, now: Date): Promise<number> {
  const config = await store.loadConfig();
  if (!config) return 0;
  const cached = await loadCachedBundle(store, config, now);
  if (cached.status !== "trusted") return 0;
  const file = join(store.dir, GRANT_WATCH);
  const raw = (await readJsonFile(file).catch(() => undefined)) as GrantWatch | undefined;
  const watch: GrantWatch = raw && typeof raw === "object" && raw.active && typeof raw.active === "object" ? raw : { active: {} };
  const inBundle = new Map(cached.bundle.grants.map((g) => [g.id, g]));
  let queued = 0;
  for (const [id, g] of Object.entries(watch.active)) {
    const expired = Date.parse(g.endsAt) <= now.getTime();
    if (!expired && inBundle.has(id)) continue;
    await enqueueEvent(store, {
      type: "grant_ended",
      at: (expired ? new Date(g.endsAt) : now).toISOString(),
      user: g.user,
      source: { type: "grant", id, name: g.name },
      requestId: g.requestId,
      reason: expired ? "the grant's time ran out" : "the grant was withdrawn (revoked or ended early)",
      bundleVersion: cached.bundle.version,
    });
    delete watch.active[id];
    queued += 1;
  }
  for (const g of cached.bundle.grants) {
    const t = now.getTime();
    if (Date.parse(g.startsAt) <= t && t < Date.parse(g.endsAt) && !watch.active[g.id]) {
      watch.active[g.id] = { requestId: g.requestId, user: g.user, endsAt: g.endsAt, name: `request ${g.requestId}` };
    }
  }
  await writeFileAtomic(file, JSON.stringify(watch) + "\n");
  return queued;
}

/** The daemon's second loop: watch grants and send the queue every `intervalMs`, backing off while the server fails. */
export async function runEventSender(opts: { store: StateStore; signal: AbortSignal; logger: Logger; intervalMs?: number }): Promise<void> {
  const { store, signal, logger } = opts;
  let failures = 0;
  while (!signal.aborted) {
    let delay = opts.intervalMs ?? 2_000;
    try {
      await watchGrants(store, new Date());
      const sent = await flushEvents(store, signal);
      if (sent > 0) logger.info({ event: "events_sent", count: sent }, `sent ${sent} event report(s)`);
      failures = 0;
    } catch (e) {
      if (signal.aborted) break;
      delay = backoffDelayMs(failures);
      failures += 1;
      logger.warn({ event: "events_send_failed", message: (e as Error).message, attempt: failures, retryInMs: delay, queued: await queueLength(store) }, "could not send event reports; they stay queued");
    }
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      // aborted
    }
  }
}

/** What `jit-agent check` decided, as a queued report. */
export type CheckOutcome = {
  allowed: boolean;
  reason: string;
  user: string;
  app: { path: string; sha256?: string | null; clsid?: string | null };
  source: { type: "policy" | "grant"; id: string; name: string } | null;
  expiresAt: string | null;
  bundleVersion: number | null;
};

/** Queues the check's outcome (only on an enrolled computer: there is nobody to report to otherwise). */
export async function recordCheck(store: StateStore, r: CheckOutcome, now: Date): Promise<string | null> {
  if (!(await store.loadConfig().catch(() => null))) return null;
  const requestId = r.source?.type === "grant" ? (/^request (.+)$/.exec(r.source.name)?.[1] ?? null) : null;
  return enqueueEvent(store, {
    type: r.allowed ? "elevation_allowed" : "elevation_denied",
    at: now.toISOString(),
    user: r.user,
    app: { path: r.app.path.slice(0, 4096), sha256: r.app.sha256 ?? null, clsid: r.app.clsid ?? null },
    source: r.source,
    requestId,
    reason: r.reason.slice(0, 2000),
    expiresAt: r.expiresAt,
    bundleVersion: r.bundleVersion,
  });
}
