// jit-ctl events list|export: the Events report from the command line. The export streams from the server to
// stdout (or --output FILE) as CSV or JSON Lines.
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { describeActor, EventFilterSchema, ExportFormatSchema, type EventFilter } from "../../../core/audit";
import { EVENT_TYPE_NAMES } from "../../../core/events";
import { loadCredentials, parseFlags, serverUrl, signedIn, table, UsageError, type CtlCommand } from "./shared";

const FILTER_FLAGS = {
  from: { type: "string" },
  to: { type: "string" },
  type: { type: "string", multiple: true },
  computer: { type: "string" },
  user: { type: "string" },
  "console-user": { type: "string" },
  policy: { type: "string" },
  request: { type: "string" },
  text: { type: "string" },
} as const;
const FILTER_USAGE = "[--from ISO] [--to ISO] [--type T]… [--computer NAME|ID] [--user END_USER] [--console-user EMAIL] [--policy NAME|ID] [--request ID] [--text WORDS]";

type Values = Record<string, string | boolean | string[] | undefined>;
const str = (v: Values, k: string) => (typeof v[k] === "string" ? (v[k] as string) : undefined);

/** The filter from the flags; computer and policy names are looked up to their ids. */
async function filterFrom(values: Values): Promise<EventFilter> {
  const client = signedIn(str(values, "server"));
  const types = ((values.type as string[] | undefined) ?? []).flatMap((t) => t.split(",")).filter(Boolean);
  for (const t of types) if (!(EVENT_TYPE_NAMES as string[]).includes(t)) throw new UsageError(`--type: unknown event type "${t}"; one of ${EVENT_TYPE_NAMES.join(", ")}`);
  let computerId = str(values, "computer");
  if (computerId) {
    const { computers } = await client.computers.list.query();
    const hit = computers.find((c) => c.id === computerId || c.name.toLowerCase() === computerId!.toLowerCase());
    if (!hit) throw new UsageError(`--computer: no enrolled computer "${computerId}"`);
    computerId = hit.id;
  }
  let policyId = str(values, "policy");
  if (policyId) {
    const { policies } = await client.policies.list.query();
    const hit = policies.find((p) => p.id === policyId || p.name.toLowerCase() === policyId!.toLowerCase());
    // A deleted policy's id is still a fine filter.
    policyId = hit?.id ?? policyId;
  }
  const parsed = EventFilterSchema.safeParse({
    from: str(values, "from"),
    to: str(values, "to"),
    types: types.length ? types : undefined,
    computerId,
    endUser: str(values, "user"),
    consoleUser: str(values, "console-user"),
    policyId,
    requestId: str(values, "request"),
    text: str(values, "text"),
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `--${String(i.path[0] ?? "filter")}: ${i.message}`).join("; "));
  return parsed.data;
}

export const eventsListCommand: CtlCommand = {
  name: "events list",
  usage: `events list ${FILTER_USAGE} [--limit N] [--json]   the audit trail, newest first`,
  async run(args) {
    const { values } = parseFlags(args, { ...FILTER_FLAGS, limit: { type: "string" }, json: { type: "boolean" } });
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError("--limit: expected a whole number from 1 to 10000");
    const filter = await filterFrom(values);
    const client = signedIn(str(values, "server"));
    const events = [];
    let before: number | undefined;
    while (events.length < limit) {
      const page = await client.events.list.query({ filter, before, limit: Math.min(200, limit - events.length) });
      events.push(...page.events);
      if (page.nextBefore === null) break;
      before = page.nextBefore;
    }
    if (values.json) return void console.log(JSON.stringify(events, null, 2));
    if (events.length === 0) return void console.log("No events match.");
    console.log(
      table([
        ["SEQ", "TIME", "EVENT", "ACTOR", "END USER", "DETAIL"],
        ...events.map((e) => [String(e.seq), e.at, e.type, describeActor({ actor: e.actor, endUser: null }), e.endUser ?? "", summary(e.detail)]),
      ]),
    );
  },
};

function summary(detail: Record<string, unknown>): string {
  const text = typeof detail.justification === "string" ? detail.justification : JSON.stringify(detail);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export const eventsExportCommand: CtlCommand = {
  name: "events export",
  usage: `events export ${FILTER_USAGE} [--format csv|jsonl] [--output FILE]   the filtered audit trail, oldest first, streamed`,
  async run(args) {
    const { values } = parseFlags(args, { ...FILTER_FLAGS, format: { type: "string" }, output: { type: "string", short: "o" } });
    const format = ExportFormatSchema.safeParse(str(values, "format") ?? "csv");
    if (!format.success) throw new UsageError("--format: expected csv or jsonl");
    const filter = await filterFrom(values);
    const server = serverUrl(str(values, "server"));
    const token = process.env.JIT_TOKEN || loadCredentials()?.token;
    if (!token) throw new Error("not signed in: run jit-ctl login --server URL --email E (or set JIT_TOKEN)");
    const q = new URLSearchParams({ format: format.data });
    for (const [k, v] of Object.entries(filter)) {
      if (Array.isArray(v)) for (const t of v) q.append("type", t);
      else if (typeof v === "string" && v) q.set(k, v);
    }
    let res: Response;
    try {
      res = await fetch(`${server}/api/export/events?${q}`, { headers: { authorization: `Bearer ${token}` } });
    } catch (e) {
      throw new Error(`cannot reach the server (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`);
    }
    if (res.status !== 200 || !res.body) {
      const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
      const msg = body?.error?.message ?? `HTTP ${res.status}`;
      if (res.status === 400) throw new UsageError(msg);
      throw new Error(res.status === 401 ? `${msg} (sign in again with jit-ctl login)` : msg);
    }
    const out = str(values, "output");
    await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream), out ? createWriteStream(out, { mode: 0o600 }) : process.stdout);
  },
};
