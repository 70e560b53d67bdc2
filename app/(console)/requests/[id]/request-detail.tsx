"use client";
// One request on its own page: every fact, the decision and where it stands on the computer, the actions,
// and an Audit tab. Read from the local store like the Requests page (live, and there offline); Approve, Decline
// and Revoke go through the outbox (DecisionDialog). The Audit tab needs the network.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type KeyboardEvent } from "react";
import { describeDuration } from "../../../../core/duration";
import { can } from "../../../../core/roles";
import { useConsoleUser } from "../../../_components/console-shell";
import { Alert, Button, cx, PageHeader, Panel, Spinner } from "../../../_components/ui";
import { errorCode, errorMessage } from "../../../_lib/errors";
import { NeedsNetwork } from "../../../_components/needs-network";
import type { RequestView } from "../../../../core/request";
import type { RequestDoc } from "../../../_lib/db/contract";
import { useSync } from "../../../_lib/db/sync-provider";
import { localFirst, useLocalDoc } from "../../../_lib/db/use-local-doc";
import { useTRPC } from "../../../_lib/trpc";
import { DecisionDialog, type DecisionKind } from "../decision-dialog";
import { RequestFacts, requestHeading, RequestStatusBadge, RequestSyncNotice } from "../request-card";
import { appTitle, isActive } from "../request-format";
import { LiveIndicator } from "../requests-view";
import { useLiveRequests, useNow } from "../use-live-requests";
import { RequestAuditTab } from "./audit-tab";

const TABS = [
  { key: "details", label: "Details" },
  { key: "audit", label: "Audit" },
] as const;
type Tab = (typeof TABS)[number]["key"];

export function RequestDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const user = useConsoleUser();
  const mayDecide = can(user.role, "requests.decide");
  const live = useLiveRequests();
  const now = useNow(1_000);
  const [tab, setTab] = useState<Tab>("details");
  const [dialog, setDialog] = useState<DecisionKind | null>(null);
  const sync = useSync();
  const local = useLocalDoc<RequestDoc>("requests", id);
  const online = useQuery({ ...trpc.requests.get.queryOptions({ id }), enabled: local.askServer });
  const request = localFirst(local, (doc) => doc as RequestView, online, !sync.online);

  const breadcrumb = (
    <nav aria-label="Breadcrumb" className="mb-2 text-sm text-zinc-500">
      <Link href="/requests" className="inline-flex min-h-11 items-center hover:text-zinc-800 hover:underline sm:min-h-0">
        Requests
      </Link>
      <span aria-hidden="true"> / </span>
      <span>Request</span>
    </nav>
  );

  if (request.isError)
    return (
      <>
        {breadcrumb}
        <Alert title={errorCode(request.error) === "NOT_FOUND" ? "No such request" : "Could not load the request"}>{errorMessage(request.error)}</Alert>
      </>
    );
  if (request.isPending || !request.data) return <>{breadcrumb}<Spinner label="Loading the request…" /></>;

  const r = request.data;
  const active = isActive(r, now);
  // A decision waiting to sync hides the buttons, as on the Requests page.
  const decidable = mayDecide && !sync.waiting.some((e) => e.payload.id === r.id);
  const actions =
    decidable && r.status === "pending" ? (
      <>
        <Button variant="danger" onClick={() => setDialog("decline")}>
          Decline
        </Button>
        <Button onClick={() => setDialog("approve")}>Approve</Button>
      </>
    ) : decidable && active ? (
      <Button variant="danger" onClick={() => setDialog("revoke")}>
        Revoke
      </Button>
    ) : null;

  function onTabKey(e: KeyboardEvent<HTMLButtonElement>, index: number) {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length]!;
    setTab(next.key);
    document.getElementById(`request-tab-${next.key}`)?.focus();
  }

  return (
    <>
      {breadcrumb}
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            {requestHeading(r)} <RequestStatusBadge request={r} now={now} />
          </span>
        }
        description={`${appTitle(r.app)}, asked for ${describeDuration(r.requestedDuration)}.`}
        actions={
          <>
            <LiveIndicator state={live} />
            {actions}
          </>
        }
      />

      <div role="tablist" aria-label="Request" className="mb-4 flex gap-1 border-b border-zinc-200">
        {TABS.map((t, i) => (
          <button
            key={t.key}
            id={`request-tab-${t.key}`}
            type="button"
            role="tab"
            aria-selected={tab === t.key}
            aria-controls={`request-panel-${t.key}`}
            tabIndex={tab === t.key ? 0 : -1}
            onClick={() => setTab(t.key)}
            onKeyDown={(e) => onTabKey(e, i)}
            className={cx(
              "-mb-px inline-flex min-h-11 items-center border-b-2 px-4 text-sm font-medium",
              tab === t.key ? "border-indigo-600 text-indigo-700" : "border-transparent text-zinc-600 hover:text-zinc-900",
            )}
          >
            {t.label}
          </button>
        ))}
      </div>

      {tab === "details" ? (
        <section id="request-panel-details" role="tabpanel" aria-labelledby="request-tab-details" className="space-y-3">
          <RequestSyncNotice requestId={r.id} />
          <Panel className="p-5 sm:p-6">
            <RequestFacts request={r} now={now} full />
          </Panel>
        </section>
      ) : (
        <section id="request-panel-audit" role="tabpanel" aria-labelledby="request-tab-audit">
          <NeedsNetwork what="The request's audit trail">
            <RequestAuditTab requestId={r.id} />
          </NeedsNetwork>
        </section>
      )}

      {dialog && <DecisionDialog key={dialog} request={r} kind={dialog} onClose={() => setDialog(null)} />}
    </>
  );
}
