// `jit-agent requests`: a user's requests on this computer, newest first (and any still queued on disk).
import { describeDuration } from "../../core/duration";
import { CliError, COMMON_OPTIONS, out, parseCommandArgs, required } from "../args";
import { isUnreachable, listRequests, loadQueue } from "../request-client";
import { requireConfig, storeFor, type Command } from "./shared";

const usage = `Usage: jit-agent requests --user USER [--json] [--state-dir DIR]

Lists USER's elevation requests from this computer, newest first, with their status,
and any request still queued here because the server could not be reached.

  --user USER      the account name
  --json           print one JSON object: { requests: [...], queued: [...] }
  --state-dir DIR  where the agent keeps its state`;

export const requestsCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, { ...COMMON_OPTIONS, user: { type: "string" }, json: { type: "boolean" } });
    const user = required(v.user, "user", "USER").trim();
    const store = storeFor(v["state-dir"]);
    const config = await requireConfig(store);
    const queued = (await loadQueue(store)).filter((q) => q.request.user.toLowerCase() === user.toLowerCase());
    let requests;
    let offline: string | null = null;
    try {
      requests = await listRequests(config, user);
    } catch (e) {
      if (!isUnreachable(e)) throw new CliError((e as Error).message);
      offline = (e as Error).message;
      requests = [] as Awaited<ReturnType<typeof listRequests>>;
    }
    if (v.json) {
      out(JSON.stringify({ requests, queued: queued.map((q) => ({ id: q.request.clientRef, status: "queued", queuedAt: q.queuedAt, path: q.request.app.path, duration: q.request.duration })), ...(offline ? { offline } : {}) }));
      return offline ? 1 : 0;
    }
    if (offline) out(`The server cannot be reached (${offline}); showing only what is queued here.`);
    for (const q of queued) out(`${q.request.clientRef}  queued    ${q.request.app.path}  ${describeDuration(q.request.duration)}  (queued at ${q.queuedAt})`);
    for (const r of requests) {
      const when = r.status === "approved" ? `until ${r.endsAt}` : r.status === "pending" ? `since ${r.createdAt}` : (r.decidedAt ?? r.createdAt);
      out(`${r.id}  ${r.status.padEnd(9)} ${r.app.path}  ${describeDuration(r.grantedDuration ?? r.requestedDuration)}  ${when}`);
    }
    if (!offline && requests.length === 0 && queued.length === 0) out(`No requests from ${user} on this computer.`);
    return offline ? 1 : 0;
  },
};
