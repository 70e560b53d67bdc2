// The agent protocol, version 1, under /agent/v1: enroll, and the signed bundle with conditional long-poll.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError } from "../core/app-error";
import { AGENT_PROTOCOL_BASE, BundleQuerySchema, bundleEtag, EnrollRequestSchema, parseBundleEtag } from "../core/protocol";
import { handleAgentRequests } from "./agent-requests";
import { handleAgentEvents } from "./agent-events-api";
import { HTTP_STATUS } from "./errors";
import { readJsonBody, sendError, sendJson } from "./http-util";
import { createAgentCache, type AgentCache } from "./agent-cache";
import { authenticateAgent, enrollComputer } from "./services/computers";
import type { ServiceContext } from "./services/context";

export type AgentApiDeps = { services: ServiceContext; shutdown: AbortSignal; cache?: AgentCache };

export function createAgentApi(deps: AgentApiDeps) {
  const { services } = deps;
  const cache = deps.cache ?? createAgentCache(services);

  async function enroll(req: IncomingMessage, res: ServerResponse) {
    const parsed = EnrollRequestSchema.safeParse(await readJsonBody(req));
    if (!parsed.success) {
      throw new AppError("bad_request", parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
    }
    sendJson(res, 200, await enrollComputer(services, parsed.data));
  }

  /** Resolves when the computer's bundle may have changed, the wait is over, the client left or the server stops. */
  function waitForChange(computerId: string, ms: number, req: IncomingMessage): { changed: Promise<void>; cancel: () => void } {
    let cancel = () => {};
    const changed = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        req.off("close", done);
        deps.shutdown.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = services.feed.subscribe((c) => {
        if (c.kind === "bundle" && (c.computerIds === "all" || c.computerIds.includes(computerId))) done();
      });
      req.on("close", done);
      deps.shutdown.addEventListener("abort", done);
      cancel = done;
    });
    return { changed, cancel };
  }

  async function bundle(req: IncomingMessage, res: ServerResponse, url: URL) {
    const auth = req.headers.authorization;
    // From memory when this server saw the agent lately: an unchanged pull touches no database (agent-cache.ts).
    const computer = await cache.authenticate(auth?.startsWith("Bearer ") ? auth.slice(7).trim() : null);
    if (!computer) throw new AppError("unauthorized", "Unknown or revoked agent credential. Enroll this computer again.");
    const query = BundleQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) throw new AppError("bad_request", "wait: expected whole seconds from 0 to 60");
    const applied = Number(req.headers["x-bundle-version"]);
    const agentVersion = req.headers["x-agent-version"];
    await cache.touch(computer.id, {
      appliedVersion: Number.isSafeInteger(applied) && applied > 0 ? applied : null,
      agentVersion: typeof agentVersion === "string" && agentVersion.length <= 50 ? agentVersion : null,
    });
    const known = parseBundleEtag(req.headers["if-none-match"]);
    // Subscribe before reading, so a change between the read and the wait is not missed.
    const waiter = known !== null && query.data.wait > 0 && !deps.shutdown.aborted ? waitForChange(computer.id, query.data.wait * 1000, req) : null;
    try {
      // The version this server knows to be the latest answers "unchanged" without reading the bundle.
      const look = async () => {
        const latest = known !== null ? cache.latestVersion(computer.id) : null;
        return latest !== null && latest <= known! ? { version: latest, signed: null } : await cache.current(computer).then((signed) => ({ version: signed.bundle.version, signed }));
      };
      let found = await look();
      if (known !== null && found.version <= known && waiter) {
        await waiter.changed;
        if (req.destroyed) return;
        found = await look();
      }
      if (known !== null && found.version <= known) {
        res.writeHead(304, { etag: bundleEtag(found.version), "cache-control": "no-store" });
        res.end();
        return;
      }
      const signed = found.signed ?? (await cache.current(computer));
      sendJson(res, 200, signed, { etag: bundleEtag(signed.bundle.version) });
    } finally {
      waiter?.cancel();
    }
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://agent.invalid");
    const path = url.pathname.slice(AGENT_PROTOCOL_BASE.length);
    try {
      if (path === "/enroll" && req.method === "POST") return await enroll(req, res);
      if (path === "/bundle" && req.method === "GET") return await bundle(req, res, url);
      if (path === "/events" && req.method === "POST") {
        const auth = req.headers.authorization;
        const computer = await authenticateAgent(services, auth?.startsWith("Bearer ") ? auth.slice(7).trim() : null);
        if (!computer) throw new AppError("unauthorized", "Unknown or revoked agent credential. Enroll this computer again.");
        return await handleAgentEvents(services, computer, req, res);
      }
      if (path === "/requests" || path.startsWith("/requests/")) {
        const auth = req.headers.authorization;
        const computer = await authenticateAgent(services, auth?.startsWith("Bearer ") ? auth.slice(7).trim() : null);
        if (!computer) throw new AppError("unauthorized", "Unknown or revoked agent credential. Enroll this computer again.");
        if (await handleAgentRequests(services, computer, req, res, path, url, deps.shutdown)) return;
      }
      sendError(res, 404, "not_found", `No such agent protocol call: ${req.method} ${url.pathname}`);
    } catch (e) {
      if (e instanceof AppError) return sendError(res, HTTP_STATUS[e.code], e.code, e.message);
      services.log.error({ err: e, path: url.pathname }, "agent protocol call failed");
      sendError(res, 500, "internal", "The server failed to answer; it was logged. Try again.");
    }
  };
}
