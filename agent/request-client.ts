// The agent protocol's request calls (/agent/v1/requests…), and the on-disk queue of submissions made while the
// server could not be reached (sent by the next `request`, or by the daemon `run` as soon as the server is back).
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import {
  AGENT_PROTOCOL_BASE,
  AgentRequestListSchema,
  AgentRequestViewSchema,
  ProtocolErrorSchema,
  SubmitRequestSchema,
  type AgentRequestView,
  type SubmitRequest,
} from "../core/protocol";
import { AgentHttpError } from "./client";
import { withFailover } from "./servers";
import { ensureStateDir, readJsonFile, writeFileAtomic, type AgentConfig, type StateStore } from "./state";
import { AGENT_VERSION } from "./version";

/** One call, to the server that answered last, moving on to the next when it is down (submissions carry a clientRef). */
function call(config: AgentConfig, path: string, init: { method: string; body?: unknown }, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  return withFailover(config, (server) => callServer(server, config, path, init, timeoutMs, signal));
}

async function callServer(server: string, config: AgentConfig, path: string, init: { method: string; body?: unknown }, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  const url = `${server}${AGENT_PROTOCOL_BASE}${path}`;
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      redirect: "manual",
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: {
        "User-Agent": `jit-agent/${AGENT_VERSION}`,
        "X-Agent-Version": AGENT_VERSION,
        Accept: "application/json",
        Authorization: `Bearer ${config.agentToken}`,
        ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  } catch (e) {
    if (signal?.aborted) throw new AgentHttpError("aborted", "the request was cancelled");
    if (timeout.aborted) throw new AgentHttpError("timeout", `no answer from ${server} within ${Math.round(timeoutMs / 1000)} s`);
    const cause = (e as { cause?: { code?: string } }).cause;
    throw new AgentHttpError("network", `cannot reach ${server}: ${cause?.code ?? (e as Error).message}`);
  }
  const text = await res.text().catch(() => "");
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: handled below
  }
  if (res.status >= 200 && res.status < 300) {
    if (body === null) throw new AgentHttpError("protocol", `the server's answer (HTTP ${res.status}) is not JSON`, res.status);
    return body;
  }
  const err = ProtocolErrorSchema.safeParse(body);
  const kind = res.status === 401 ? "unauthorized" : res.status >= 500 ? "server" : "rejected";
  throw new AgentHttpError(kind, err.success ? err.data.error.message : `HTTP ${res.status}`, res.status, err.success ? err.data.error.code : null);
}

function parseView(body: unknown): AgentRequestView {
  const r = AgentRequestViewSchema.safeParse(body);
  if (!r.success) throw new AgentHttpError("protocol", "the server's answer about the request is not in the expected form");
  return r.data;
}

export async function submitRequest(config: AgentConfig, req: SubmitRequest, signal?: AbortSignal): Promise<AgentRequestView> {
  return parseView(await call(config, "/requests", { method: "POST", body: req }, 15_000, signal));
}

export async function listRequests(config: AgentConfig, user: string | null): Promise<AgentRequestView[]> {
  const body = await call(config, `/requests${user ? `?user=${encodeURIComponent(user)}` : ""}`, { method: "GET" }, 15_000);
  const r = AgentRequestListSchema.safeParse(body);
  if (!r.success) throw new AgentHttpError("protocol", "the server's list of requests is not in the expected form");
  return r.data.requests;
}

/** Reads one request; with wait > 0 the server holds the call until it is decided or `wait` seconds pass. */
export async function getRequest(config: AgentConfig, id: string, wait: number, signal?: AbortSignal): Promise<AgentRequestView> {
  return parseView(await call(config, `/requests/${encodeURIComponent(id)}?wait=${wait}`, { method: "GET" }, (wait + 15) * 1000, signal));
}

export async function requestAction(config: AgentConfig, id: string, action: "cancel" | "done"): Promise<AgentRequestView> {
  return parseView(await call(config, `/requests/${encodeURIComponent(id)}/${action}`, { method: "POST" }, 15_000));
}

/** A failure that means "try again later": queue rather than give up. */
export function isUnreachable(e: unknown): boolean {
  return e instanceof AgentHttpError && (e.kind === "network" || e.kind === "timeout" || e.kind === "server");
}

// ── The queue ───────────────────────────────────────────────────────────────────────────────────────

const QueuedSchema = z.object({ queuedAt: z.string(), request: SubmitRequestSchema.extend({ clientRef: z.string() }) });
export type QueuedRequest = z.infer<typeof QueuedSchema>;
const QueueFileSchema = z.object({ version: z.literal(1), queued: z.array(QueuedSchema) });

export const queuePath = (store: StateStore) => join(store.dir, "requests-queue.json");

export async function loadQueue(store: StateStore): Promise<QueuedRequest[]> {
  const raw = await readJsonFile(queuePath(store)).catch(() => undefined);
  const r = QueueFileSchema.safeParse(raw);
  return r.success ? r.data.queued : [];
}

async function saveQueue(store: StateStore, queued: QueuedRequest[]): Promise<void> {
  await ensureStateDir(store.dir);
  await writeFileAtomic(queuePath(store), JSON.stringify({ version: 1, queued }, null, 2) + "\n");
}

export const newClientRef = () => `cr-${randomUUID()}`;

export async function enqueue(store: StateStore, request: SubmitRequest & { clientRef: string }, now: Date): Promise<void> {
  const queued = await loadQueue(store);
  if (!queued.some((q) => q.request.clientRef === request.clientRef)) queued.push({ queuedAt: now.toISOString(), request });
  await saveQueue(store, queued);
}

export async function dropQueued(store: StateStore, clientRef: string): Promise<boolean> {
  const queued = await loadQueue(store);
  const kept = queued.filter((q) => q.request.clientRef !== clientRef);
  if (kept.length === queued.length) return false;
  await saveQueue(store, kept);
  return true;
}

export type FlushResult = { sent: Array<{ clientRef: string; view: AgentRequestView }>; refused: Array<{ clientRef: string; message: string }>; left: number };

/**
 * Sends every queued submission, oldest first. Sent and refused ones leave the queue (a refusal, e.g. too long,
 * will not get better by retrying); an unreachable server stops the flush and keeps the rest. The server records
 * each clientRef once, so a submission sent twice (a crash between send and save) is still one request.
 */
export async function flushQueue(store: StateStore, config: AgentConfig, signal?: AbortSignal): Promise<FlushResult> {
  const queued = await loadQueue(store);
  const result: FlushResult = { sent: [], refused: [], left: queued.length };
  for (const q of queued) {
    try {
      result.sent.push({ clientRef: q.request.clientRef, view: await submitRequest(config, q.request, signal) });
    } catch (e) {
      if (isUnreachable(e) || (e instanceof AgentHttpError && (e.kind === "aborted" || e.kind === "unauthorized"))) break;
      result.refused.push({ clientRef: q.request.clientRef, message: (e as Error).message });
    }
    await dropQueued(store, q.request.clientRef);
    result.left--;
  }
  return result;
}
