"use client";
// The Requests page: Pending (newest first), Active (with a live countdown) and History, kept live by the
// server's change stream, with Approve, Decline and Revoke for those who may decide.
import { useQuery } from "@tanstack/react-query";
import { useState, type KeyboardEvent } from "react";
import type { RequestListFilter, RequestView } from "../../../core/request";
import { can } from "../../../core/roles";
import { useConsoleUser } from "../../_components/console-shell";
import { Alert, Badge, cx, EmptyState, PageHeader, Spinner } from "../../_components/ui";
import type { RequestDoc } from "../../_lib/db/contract";
import { useLocalDocs, useSync } from "../../_lib/db/sync-provider";
import { errorMessage } from "../../_lib/errors";
import { useTRPC } from "../../_lib/trpc";
import { DecisionDialog, type DecisionKind } from "./decision-dialog";
import { RequestCard, RequestSyncNotice } from "./request-card";
import { isActive } from "./request-format";
import { useLiveRequests, useNow, type LiveState } from "./use-live-requests";

const TABS: { key: RequestListFilter; label: string }[] = [
  { key: "pending", label: "Pending" },
  { key: "active", label: "Active" },
  { key: "history", label: "History" },
];

// The change stream keeps these fresh; the interval is only a safety net for a stream that is down.
const SAFETY_REFETCH_MS = 30_000;

export function RequestsView() {
  const trpc = useTRPC();
  const user = useConsoleUser();
  const mayDecide = can(user.role, "requests.decide");
  const [tab, setTab] = useState<RequestListFilter>("pending");
  const [dialog, setDialog] = useState<{ request: RequestView; kind: DecisionKind } | null>(null);
  const live = useLiveRequests();
  const now = useNow(1_000);

  // The lists come from the local store (replicated, and there offline); straight from the server only when
  // this browser cannot keep a store.
  const sync = useSync();
  const serverOnly = sync.unavailable;
  const pendingOnline = useQuery({ ...trpc.requests.list.queryOptions({ status: "pending" }), refetchInterval: SAFETY_REFETCH_MS, enabled: serverOnly });
  const activeOnline = useQuery({ ...trpc.requests.list.queryOptions({ status: "active" }), refetchInterval: SAFETY_REFETCH_MS, enabled: serverOnly });
  const historyOnline = useQuery({ ...trpc.requests.list.queryOptions({ status: "history", limit: 100 }), enabled: serverOnly && tab === "history" });
  const pendingLocal = useLocalDocs<RequestDoc>("requests", { status: "pending" });
  const activeLocal = useLocalDocs<RequestDoc>("requests", { status: "approved" });
  const historyLocal = useLocalDocs<RequestDoc>("requests", { status: { $nin: ["pending", "approved"] } }, [{ updatedAt: "desc" }], 100, tab === "history");
  const local = (docs: RequestDoc[] | undefined, order: (a: RequestDoc, b: RequestDoc) => number) => ({
    isPending: docs === undefined,
    isError: false as const,
    error: null,
    data: docs && { requests: [...docs].sort(order) as RequestView[] },
  });
  const queries = serverOnly
    ? { pending: pendingOnline, active: activeOnline, history: historyOnline }
    : {
        pending: local(pendingLocal, (a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id)),
        active: local(activeLocal, (a, b) => (a.endsAt ?? "").localeCompare(b.endsAt ?? "") || a.id.localeCompare(b.id)),
        history: local(historyLocal, () => 0),
      };
  const { pending, active } = queries;
  const current = queries[tab];

  // A grant whose time ran out leaves Active at once, before the server's sweeper says so.
  const shown = (current.data?.requests ?? []).filter((r) => (tab === "active" ? isActive(r, now) : true));
  const counts: Partial<Record<RequestListFilter, number>> = {
    pending: pending.data?.requests.length,
    active: active.data?.requests.filter((r) => isActive(r, now)).length,
  };

  function onTabKey(e: KeyboardEvent<HTMLButtonElement>, index: number) {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length]!;
    setTab(next.key);
    document.getElementById(`requests-tab-${next.key}`)?.focus();
  }

  return (
    <>
      <PageHeader
        title="Requests"
        description="Elevation requests that users send from their computers. Approve or Decline what is pending; Revoke access at any time."
        actions={<LiveIndicator state={live} />}
      />

      <div role="tablist" aria-label="Requests" className="mb-4 grid grid-cols-3 gap-1 rounded-xl bg-zinc-100 p-1 sm:inline-grid sm:w-auto">
        {TABS.map((t, i) => {
          const selected = tab === t.key;
          const count = counts[t.key];
          return (
            <button
              key={t.key}
              id={`requests-tab-${t.key}`}
              type="button"
              role="tab"
              aria-selected={selected}
              aria-controls="requests-panel"
              tabIndex={selected ? 0 : -1}
              onClick={() => setTab(t.key)}
              onKeyDown={(e) => onTabKey(e, i)}
              className={cx(
                "inline-flex min-h-11 items-center justify-center gap-1.5 rounded-lg px-4 text-sm font-medium transition-colors focus-visible:outline-2 focus-visible:outline-indigo-600",
                selected ? "bg-white text-zinc-900 shadow-sm" : "text-zinc-600 hover:text-zinc-900",
              )}
            >
              {t.label}
              {count !== undefined && count > 0 && (
                <span className={cx("rounded-full px-1.5 text-xs tabular-nums", t.key === "pending" ? "bg-amber-100 text-amber-900" : "bg-zinc-200 text-zinc-700")}>
                  {count}
                </span>
              )}
            </button>
          );
        })}
      </div>

      <section id="requests-panel" role="tabpanel" aria-labelledby={`requests-tab-${tab}`}>
        {current.isPending ? (
          <Spinner label="Loading requests…" />
        ) : current.isError ? (
          <Alert title="Could not load the requests">{errorMessage(current.error)}</Alert>
        ) : shown.length === 0 ? (
          <EmptyState title={tab === "pending" ? "No pending requests" : tab === "active" ? "No active access" : "No requests yet"}>
            <p>
              {tab === "pending"
                ? "When a user asks for elevation on their computer (jit-agent request), the request shows here at once."
                : tab === "active"
                  ? "Approved requests show here while their time runs, with a countdown and Revoke."
                  : "Requests that were declined, cancelled, lapsed, revoked or that ended by themselves show here."}
            </p>
          </EmptyState>
        ) : (
          <ul className="space-y-3" aria-label={`${TABS.find((t) => t.key === tab)!.label} requests`}>
            {shown.map((r) => (
              <li key={r.id}>
                <RequestCard
                  request={r}
                  now={now}
                  mayDecide={mayDecide && !sync.waiting.some((e) => e.payload.id === r.id)}
                  onDecide={(kind) => setDialog({ request: r, kind })}
                  notice={<RequestSyncNotice requestId={r.id} />}
                />
              </li>
            ))}
          </ul>
        )}
      </section>

      {dialog && <DecisionDialog key={`${dialog.request.id}-${dialog.kind}`} request={dialog.request} kind={dialog.kind} onClose={() => setDialog(null)} />}
    </>
  );
}

export function LiveIndicator({ state }: { state: LiveState }) {
  if (state === "live")
    return (
      <Badge className="self-center bg-emerald-50 text-emerald-800 ring-emerald-300">
        <span className="mr-1.5 size-2 rounded-full bg-emerald-500" aria-hidden="true" />
        Live
      </Badge>
    );
  if (state === "offline") return <Badge className="self-center bg-amber-50 text-amber-800 ring-amber-300">Reconnecting…</Badge>;
  return <Badge className="self-center bg-zinc-100 text-zinc-700 ring-zinc-300">Connecting…</Badge>;
}
