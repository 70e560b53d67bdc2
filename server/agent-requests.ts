// The agent protocol's request calls (/agent/v1/requests…): submit, list a user's, read one (long-poll until
// decided), cancel, and end one's own grant early. The caller is the computer's agent (its bearer token).
import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError } from "../core/app-error";
import { AgentRequestWaitSchema, SubmitRequestSchema } from "../core/protocol";
import { readJsonBody, sendJson } from "./http-util";
import type { ServiceContext } from "./services/context";
import {
  cancelRequestFromAgent,
  endRequestEarly,
  getRequestForAgent,
  listRequestsForAgent,
  submitRequest,
  toAgentView,
  waitForRequestChange,
  type AgentComputer,
} from "./services/requests";

/** Handles a path under /requests; false when the path is not one of ours. */
export async function handleAgentRequests(
  services: ServiceContext,
  computer: AgentComputer,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  url: URL,
  shutdown: AbortSignal,
): Promise<boolean> {
  if (path === "/requests" && req.method === "POST") {
    const parsed = SubmitRequestSchema.safeParse(await readJsonBody(req));
    if (!parsed.success) throw new AppError("bad_request", parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
    sendJson(res, 201, toAgentView(await submitRequest(services, computer, parsed.data)));
    return true;
  }
  if (path === "/requests" && req.method === "GET") {
    const user = url.searchParams.get("user");
    if (user !== null && (user.trim() === "" || user.length > 253)) throw new AppError("bad_request", "user: expected an account name");
    const list = await listRequestsForAgent(services, computer, user);
    sendJson(res, 200, { requests: list.map(toAgentView) });
    return true;
  }
  const m = /^\/requests\/([A-Za-z0-9-]{1,100})(\/cancel|\/done)?$/.exec(path);
  if (!m) return false;
  const id = m[1]!;
  if (!m[2] && req.method === "GET") {
    const q = AgentRequestWaitSchema.safeParse(Object.fromEntries(url.searchParams));
    if (!q.success) throw new AppError("bad_request", "wait: expected whole seconds from 0 to 60");
    const deadline = Date.now() + q.data.wait * 1000;
    // Subscribe-then-read each round, so a decision between the read and the wait is not missed.
    const abort = new AbortController();
    const onClose = () => abort.abort();
    req.on("close", onClose);
    shutdown.addEventListener("abort", onClose);
    try {
      for (;;) {
        const left = deadline - Date.now();
        const waiter = left > 0 && !abort.signal.aborted ? waitForRequestChange(services, id, left, abort.signal) : null;
        const view = await getRequestForAgent(services, computer, id);
        if (view.status !== "pending" || !waiter) {
          abort.abort();
          await waiter;
          if (!req.destroyed) sendJson(res, 200, toAgentView(view));
          return true;
        }
        await waiter;
      }
    } finally {
      req.off("close", onClose);
      shutdown.removeEventListener("abort", onClose);
    }
  }
  if (m[2] === "/cancel" && req.method === "POST") {
    sendJson(res, 200, toAgentView(await cancelRequestFromAgent(services, computer, id)));
    return true;
  }
  if (m[2] === "/done" && req.method === "POST") {
    sendJson(res, 200, toAgentView(await endRequestEarly(services, computer, id)));
    return true;
  }
  return false;
}
