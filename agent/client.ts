// The agent protocol client (/agent/v1): fetch with a timeout and the caller's AbortSignal, every answer parsed with zod.
import { AGENT_PROTOCOL_BASE, bundleEtag, EnrollResponseSchema, ProtocolErrorSchema, type EnrollRequest, type EnrollResponse } from "../core/protocol";
import { AGENT_VERSION } from "./version";

/** Why a call failed, in the terms the daemon acts on: back off, or report and back off. */
export type AgentHttpErrorKind =
  | "network" // no answer: DNS, refused connection, reset, TLS
  | "timeout" // no answer in time
  | "aborted" // the caller aborted (shutdown)
  | "server" // 5xx
  | "unauthorized" // 401: the token is unknown, used, expired or revoked
  | "rejected" // any other 4xx (and redirects, which we do not follow)
  | "protocol"; // an answer we cannot understand

export class AgentHttpError extends Error {
  readonly kind: AgentHttpErrorKind;
  readonly status: number | null;
  /** The server's error code from `{error:{code,message}}`, when it sent one. */
  readonly code: string | null;
  constructor(kind: AgentHttpErrorKind, message: string, status: number | null = null, code: string | null = null) {
    super(message);
    this.name = "AgentHttpError";
    this.kind = kind;
    this.status = status;
    this.code = code;
  }
}

/** Validates and normalises a server URL given on the command line: http(s), no credentials, no trailing slash. */
export function normalizeServerUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username || url.password || url.search || url.hash) return null;
  return url.toString().replace(/\/+$/, "");
}

const BASE_HEADERS = { "User-Agent": `jit-agent/${AGENT_VERSION}`, "X-Agent-Version": AGENT_VERSION, Accept: "application/json" };

type CallOptions = { signal?: AbortSignal; timeoutMs: number };

async function call(url: string, init: RequestInit, opts: CallOptions): Promise<Response> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    // Redirects are not followed: a bearer token must go only to the server this computer enrolled with.
    res = await fetch(url, { ...init, signal, redirect: "manual" });
  } catch (e) {
    if (opts.signal?.aborted) throw new AgentHttpError("aborted", "the request was cancelled");
    if (timeout.aborted) throw new AgentHttpError("timeout", `no answer from ${new URL(url).origin} within ${Math.round(opts.timeoutMs / 1000)} s`);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new AgentHttpError("network", `cannot reach ${new URL(url).origin}: ${why}`);
  }
  if (res.status >= 300 && res.status < 400 && res.status !== 304) {
    await res.body?.cancel().catch(() => {});
    const to = res.headers.get("location");
    throw new AgentHttpError("rejected", `the server redirected (HTTP ${res.status}${to ? ` to ${to}` : ""}); use the URL it redirects to`, res.status);
  }
  return res;
}

async function readJson(res: Response): Promise<unknown> {
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw new AgentHttpError("network", `the server's answer was cut off: ${(e as Error).message}`, res.status);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AgentHttpError("protocol", `the server's answer (HTTP ${res.status}) is not JSON`, res.status);
  }
}

/** Turns a non-2xx answer into an AgentHttpError carrying the server's own message when it sent one. */
async function errorFrom(res: Response): Promise<AgentHttpError> {
  let code: string | null = null;
  let message = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  try {
    const parsed = ProtocolErrorSchema.safeParse(JSON.parse(await res.text()));
    if (parsed.success) {
      code = parsed.data.error.code;
      message = parsed.data.error.message;
    }
  } catch {
    // A body that is not our error shape (a proxy's HTML page): keep the status line.
  }
  const kind: AgentHttpErrorKind = res.status === 401 ? "unauthorized" : res.status >= 500 ? "server" : "rejected";
  return new AgentHttpError(kind, message, res.status, code);
}

export async function enroll(server: string, request: EnrollRequest, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<EnrollResponse> {
  const res = await call(
    `${server}${AGENT_PROTOCOL_BASE}/enroll`,
    { method: "POST", headers: { ...BASE_HEADERS, "Content-Type": "application/json" }, body: JSON.stringify(request) },
    { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 30_000 },
  );
  if (res.status !== 200 && res.status !== 201) throw await errorFrom(res);
  const parsed = EnrollResponseSchema.safeParse(await readJson(res));
  if (!parsed.success) throw new AgentHttpError("protocol", "the server's enrollment answer is not in the expected form", res.status);
  return parsed.data;
}

export type BundleFetch = { status: "unchanged" } | { status: "offered"; envelope: unknown };

export type FetchBundleOptions = {
  agentToken: string;
  /** The version we hold (If-None-Match), or null to ask for the current bundle whatever it is. */
  cachedVersion: number | null;
  /** The version in force on this computer, reported to the server (X-Bundle-Version). */
  appliedVersion: number | null;
  /** Seconds the server may hold the request open waiting for a newer version. */
  wait: number;
  signal?: AbortSignal;
};

/** Long-poll for the bundle: "unchanged" on 304; otherwise the envelope as received, not yet trusted. */
export async function fetchBundle(server: string, opts: FetchBundleOptions): Promise<BundleFetch> {
  const headers: Record<string, string> = { ...BASE_HEADERS, Authorization: `Bearer ${opts.agentToken}` };
  if (opts.cachedVersion !== null) headers["If-None-Match"] = bundleEtag(opts.cachedVersion);
  if (opts.appliedVersion !== null) headers["X-Bundle-Version"] = String(opts.appliedVersion);
  // The server holds the request up to `wait` seconds; allow it that long plus time to answer.
  const res = await call(`${server}${AGENT_PROTOCOL_BASE}/bundle?wait=${opts.wait}`, { method: "GET", headers }, { signal: opts.signal, timeoutMs: (opts.wait + 15) * 1000 });
  if (res.status === 304) {
    await res.body?.cancel().catch(() => {});
    return { status: "unchanged" };
  }
  if (res.status !== 200) throw await errorFrom(res);
  return { status: "offered", envelope: await readJson(res) };
}
