"use client";
// <AuditTrail policyId|computerId|requestId=… />: the Audit tab of a policy, computer or request, newest first,
// with "Show older events" (keyset pages of the Events report).
import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { EventFilter, EventView } from "../../core/audit";
import { describeActor } from "../../core/audit";
import { summarizeEvent } from "../_lib/audit-format";
import { errorMessage } from "../_lib/errors";
import { formatExact, formatShort } from "../_lib/format";
import { useTRPCClient } from "../_lib/trpc";
import { Alert, Button, EmptyState, Panel, Spinner } from "./ui";

export type AuditTrailProps = { policyId?: string; computerId?: string; requestId?: string; pageSize?: number; title?: string };

export function useEventPages(filter: EventFilter, pageSize: number, key: string) {
  const client = useTRPCClient();
  return useInfiniteQuery({
    queryKey: ["events.list", key, filter, pageSize],
    queryFn: ({ pageParam }) => client.events.list.query({ filter, before: pageParam, limit: pageSize }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.nextBefore ?? undefined,
    refetchInterval: 15_000,
  });
}

export function AuditTrail({ policyId, computerId, requestId, pageSize = 25, title = "Audit" }: AuditTrailProps) {
  const filter: EventFilter = { policyId, computerId, requestId };
  const q = useEventPages(filter, pageSize, "audit-trail");
  const events = q.data?.pages.flatMap((p) => p.events) ?? [];
  const exportHref = `/api/export/events?${new URLSearchParams({ format: "csv", ...(policyId ? { policyId } : {}), ...(computerId ? { computerId } : {}), ...(requestId ? { requestId } : {}) })}`;

  if (q.isPending) return <Spinner label="Loading the audit trail…" />;
  if (q.isError) return <Alert title="Could not load the audit trail">{errorMessage(q.error)}</Alert>;
  if (events.length === 0) return <EmptyState title="No events yet">Every change and every elevation shows here as it happens.</EmptyState>;
  return (
    <section aria-label={title}>
      <Panel className="overflow-hidden">
        <ol aria-label="Events, newest first" className="divide-y divide-zinc-100">
          {events.map((e) => (
            <AuditTrailItem key={e.seq} event={e} />
          ))}
        </ol>
      </Panel>
      <div className="mt-3 flex flex-wrap items-center gap-3">
        {q.hasNextPage && (
          <Button variant="secondary" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
            {q.isFetchingNextPage ? "Loading…" : "Show older events"}
          </Button>
        )}
        <a className="inline-flex min-h-11 items-center text-sm font-medium text-indigo-700 hover:underline" href={exportHref} download>
          Export these events (CSV)
        </a>
        <Link className="inline-flex min-h-11 items-center text-sm font-medium text-indigo-700 hover:underline" href="/events">
          All events
        </Link>
      </div>
    </section>
  );
}

function AuditTrailItem({ event: e }: { event: EventView }) {
  const summary = summarizeEvent(e);
  return (
    <li className="flex flex-col gap-1 px-4 py-3 sm:flex-row sm:items-baseline sm:gap-4">
      <time dateTime={e.at} title={formatExact(e.at)} className="shrink-0 text-xs text-zinc-500 sm:w-40">
        {formatShort(e.at)}
      </time>
      <div className="min-w-0 flex-1">
        <p className="text-sm text-zinc-900">
          <span className="font-medium">{e.label}</span> <span className="text-zinc-500">by</span> <span>{describeActor(e)}</span>
        </p>
        {summary && <p className="mt-0.5 break-words text-xs text-zinc-600">{summary}</p>}
      </div>
      <span className="shrink-0 font-mono text-xs text-zinc-400" title={`hash ${e.hash}`}>
        #{e.seq}
      </span>
    </li>
  );
}
