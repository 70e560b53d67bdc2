// GET /api/export/events?format=csv|jsonl&…filters: the Events report's filtered set as a download, streamed
// (read in keyset batches, written with back-pressure; never the whole export in memory). Authenticated like
// tRPC: the console's session cookie or a bearer token (jit-ctl).
import type { IncomingMessage, ServerResponse } from "node:http";
import { CSV_HEADER, csvLine, EventFilterSchema, ExportFormatSchema, jsonLine } from "../core/audit";
import { can } from "../core/roles";
import { sendError } from "./http-util";
import { streamEvents } from "./services/events";
import { createRequestContext, type ContextDeps } from "./trpc";

export const EXPORT_EVENTS_PATH = "/api/export/events";

/** The query string's filters, in the same shape the report's tRPC call takes. */
export function filterFromQuery(params: URLSearchParams) {
  const one = (k: string) => params.get(k) ?? undefined;
  const types = params.getAll("type").flatMap((t) => t.split(",")).filter(Boolean);
  return EventFilterSchema.safeParse({
    from: one("from"),
    to: one("to"),
    types: types.length ? types : undefined,
    computerId: one("computerId"),
    endUser: one("endUser"),
    consoleUser: one("consoleUser"),
    policyId: one("policyId"),
    requestId: one("requestId"),
    text: one("text"),
  });
}

export function createEventsExport(deps: ContextDeps) {
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") return sendError(res, 405, "bad_request", "Use GET.");
    const ctx = await createRequestContext(deps, req, res);
    if (!ctx.session) return sendError(res, 401, "unauthorized", "Sign in first.");
    if (!can(ctx.session.user.role, "events.read")) return sendError(res, 403, "forbidden", `Your role (${ctx.session.user.role}) may not read events.`);
    const url = new URL(req.url ?? "/", "http://export.invalid");
    const format = ExportFormatSchema.safeParse(url.searchParams.get("format") ?? "csv");
    if (!format.success) return sendError(res, 400, "bad_request", "format: expected csv or jsonl");
    const filter = filterFromQuery(url.searchParams);
    if (!filter.success) {
      return sendError(res, 400, "bad_request", filter.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "));
    }
    const stamp = deps.services.now().toISOString().replace(/[:.]/g, "-");
    const csv = format.data === "csv";
    res.writeHead(200, {
      "content-type": csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="jit-events-${stamp}.${csv ? "csv" : "jsonl"}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    if (req.method === "HEAD") return void res.end();
    let aborted = false;
    const closed = new Promise<void>((r) =>
      res.once("close", () => {
        aborted = !res.writableFinished;
        r();
      }),
    );
    try {
      // A byte-order mark so spreadsheets read the CSV as UTF-8.
      if (csv) res.write(`\ufeff${CSV_HEADER}`);
      let buffer = "";
      for await (const e of streamEvents(deps.services, filter.data)) {
        if (aborted) return;
        buffer += csv ? csvLine(e) : jsonLine(e);
        if (buffer.length >= 64 * 1024) {
          const ok = res.write(buffer);
          buffer = "";
          if (!ok) await Promise.race([new Promise<void>((r) => res.once("drain", r)), closed]);
        }
      }
      if (buffer) res.write(buffer);
      res.end();
    } catch (err) {
      deps.services.log.error({ err }, "event export failed");
      res.destroy();
    }
  };
}
