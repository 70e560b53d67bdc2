// jit-ctl requests list | approve | decline | revoke: elevation requests from the command line.
import { describeDuration } from "../../../core/duration";
import { RequestListFilterSchema, type RequestView } from "../../../core/request";
import { parseFlags, signedIn, table, UsageError, type CtlCommand } from "./shared";

function oneId(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`${what} needs one request ID`);
  return positionals[0]!;
}

function summary(r: RequestView): string {
  switch (r.status) {
    case "pending":
      return r.approvalsNeeded > 1 ? `pending (${r.approvals.length} of ${r.approvalsNeeded} approvals)` : "pending";
    case "approved":
      return `approved by ${r.decidedBy?.name ?? "?"} until ${r.endsAt}`;
    case "declined":
      return `declined by ${r.decidedBy?.name ?? "?"}: ${r.declineReason ?? ""}`;
    case "revoked":
      return `revoked by ${r.revokedBy?.name ?? "?"} at ${r.endsAt}`;
    default:
      return r.status;
  }
}

export const requestsListCommand: CtlCommand = {
  name: "requests list",
  usage: "requests list [--status pending|active|history] [--json]   elevation requests (pending newest first)",
  async run(args) {
    const { values } = parseFlags(args, { status: { type: "string" }, json: { type: "boolean" } });
    let status: "pending" | "active" | "history" | undefined;
    if (values.status !== undefined) {
      const s = RequestListFilterSchema.safeParse(values.status);
      if (!s.success) throw new UsageError(`--status: expected pending, active or history, got "${String(values.status)}"`);
      status = s.data;
    }
    const { requests } = await signedIn(values.server as string | undefined).requests.list.query({ status });
    if (values.json) return void console.log(JSON.stringify(requests, null, 2));
    if (requests.length === 0) return void console.log(status ? `No ${status} requests.` : "No requests yet.");
    console.log(
      table([
        ["ID", "STATUS", "USER", "COMPUTER", "APPLICATION", "DURATION", "ASKED AT", "JUSTIFICATION"],
        ...requests.map((r) => [r.id, summary(r), r.user, r.computer.name, r.app.path, describeDuration(r.grantedDuration ?? r.requestedDuration), r.createdAt, r.justification]),
      ]),
    );
  },
};

export const requestsApproveCommand: CtlCommand = {
  name: "requests approve",
  usage: "requests approve ID [--duration 15m] [--note TEXT]   approve (optionally for a shorter time)",
  async run(args) {
    const { values, positionals } = parseFlags(args, { duration: { type: "string" }, note: { type: "string" } }, { positionals: 1 });
    const id = oneId(positionals, "requests approve");
    const { request } = await signedIn(values.server as string | undefined).requests.approve.mutate({
      id,
      ...(values.duration ? { duration: String(values.duration) } : {}),
      ...(values.note ? { note: String(values.note) } : {}),
    });
    console.log(request.status === "approved" ? `Request ${id} approved for ${describeDuration(request.grantedDuration!)}, until ${request.endsAt}.` : `Approval recorded: ${summary(request)}.`);
  },
};

export const requestsDeclineCommand: CtlCommand = {
  name: "requests decline",
  usage: "requests decline ID --reason TEXT                    decline, saying why",
  async run(args) {
    const { values, positionals } = parseFlags(args, { reason: { type: "string" } }, { positionals: 1 });
    const id = oneId(positionals, "requests decline");
    if (!values.reason || !String(values.reason).trim()) throw new UsageError("requests decline needs --reason TEXT");
    await signedIn(values.server as string | undefined).requests.decline.mutate({ id, reason: String(values.reason) });
    console.log(`Request ${id} declined.`);
  },
};

export const requestsRevokeCommand: CtlCommand = {
  name: "requests revoke",
  usage: "requests revoke ID [--reason TEXT]                   end approved access now",
  async run(args) {
    const { values, positionals } = parseFlags(args, { reason: { type: "string" } }, { positionals: 1 });
    const id = oneId(positionals, "requests revoke");
    const { request } = await signedIn(values.server as string | undefined).requests.revoke.mutate({ id, ...(values.reason ? { reason: String(values.reason) } : {}) });
    console.log(`Request ${id} revoked at ${request.endsAt}.`);
  },
};
