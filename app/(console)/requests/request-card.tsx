"use client";
// One elevation request as a card: who, where, which application, how long, why; its state; and the actions
// the signed-in person may take on it. The same card serves Pending, Active and History, on a phone and a desk.
import Link from "next/link";
import type { ReactNode } from "react";
import { describeDuration } from "../../../core/duration";
import type { RequestView } from "../../../core/request";
import { Badge, Button, cx, Panel } from "../../_components/ui";
import { OUTBOX_LABELS } from "../../_components/sync-status";
import { useSync } from "../../_lib/db/sync-provider";
import { formatExact, formatRelative } from "../../_lib/format";
import type { DecisionKind } from "./decision-dialog";
import { appTitle, describeApplied, formatClock, formatCountdown, formatSpan, isActive, REQUEST_STATUS_LABELS, REQUEST_STATUS_STYLES } from "./request-format";

export function RequestStatusBadge({ request, now }: { request: RequestView; now: number }) {
  // An approved request whose end has passed but that the sweeper has not recorded yet already reads as expired.
  const status = request.status === "approved" && !isActive(request, now) ? "expired" : request.status;
  return <Badge className={REQUEST_STATUS_STYLES[status]}>{REQUEST_STATUS_LABELS[status]}</Badge>;
}

export function requestHeading(r: RequestView): string {
  return `${r.user} on ${r.computer.name}`;
}

export function RequestCard({
  request: r,
  now,
  mayDecide,
  onDecide,
  headingLevel = 3,
  notice,
}: {
  request: RequestView;
  now: number;
  mayDecide: boolean;
  onDecide: (kind: DecisionKind) => void;
  headingLevel?: 2 | 3;
  /** What the local store knows about this request's unsynced or refused decisions. */
  notice?: ReactNode;
}) {
  const headingId = `request-${r.id}-heading`;
  const Heading = headingLevel === 2 ? "h2" : "h3";
  const active = isActive(r, now);
  return (
    <Panel className="p-4 sm:p-5">
      <article aria-labelledby={headingId} className="space-y-3">
        <header className="flex flex-wrap items-start justify-between gap-x-3 gap-y-1">
          <div className="min-w-0">
            <Heading id={headingId} className="text-base font-semibold text-zinc-900">
              <Link href={`/requests/${r.id}`} className="-my-2.5 inline-flex min-h-11 items-center hover:underline">
                {requestHeading(r)}
              </Link>
            </Heading>
            <p className="text-sm text-zinc-600">
              {appTitle(r.app)} · {describeDuration(r.grantedDuration ?? r.requestedDuration)}
              {r.extendsRequestId && <span className="ml-1">· extension</span>}
            </p>
          </div>
          <RequestStatusBadge request={r} now={now} />
        </header>

        <RequestFacts request={r} now={now} />
        {notice}

        {(r.status === "pending" || active) && mayDecide && (
          <div className="flex flex-col gap-2 pt-1 sm:flex-row sm:justify-end">
            {r.status === "pending" ? (
              <>
                <Button variant="danger" onClick={() => onDecide("decline")}>
                  Decline
                </Button>
                <Button onClick={() => onDecide("approve")}>Approve</Button>
              </>
            ) : (
              <Button variant="danger" onClick={() => onDecide("revoke")}>
                Revoke
              </Button>
            )}
          </div>
        )}
      </article>
    </Panel>
  );
}

/** The facts of a request as a description list: the same on the card and on the request's own page. */
export function RequestFacts({ request: r, now, full = false }: { request: RequestView; now: number; full?: boolean }) {
  const active = isActive(r, now);
  const applied = describeApplied(r, now);
  return (
    <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-2">
      <Fact label="Application" wide>
        <span className="break-all font-mono text-xs text-zinc-800">{r.app.path}</span>
        <AppIdentity app={r.app} full={full} />
      </Fact>
      <Fact label="Justification" wide>
        <span className="whitespace-pre-wrap break-words">{r.justification}</span>
      </Fact>
      <Fact label="Duration asked">{describeDuration(r.requestedDuration)}</Fact>
      {r.grantedDuration && r.grantedDuration !== r.requestedDuration && <Fact label="Duration granted">{describeDuration(r.grantedDuration)}</Fact>}

      {r.status === "pending" && (
        <Fact label="Waiting">
          <time dateTime={r.waitingSince} title={formatExact(r.waitingSince)}>
            {formatSpan(now - Date.parse(r.waitingSince))}
          </time>
          {r.lapsesAt && <span className="text-zinc-500"> · lapses {formatRelative(r.lapsesAt, now)}</span>}
        </Fact>
      )}
      {active && r.endsAt && (
        <Fact label="Time left">
          <span role="timer" aria-label={`${formatSpan(Date.parse(r.endsAt) - now)} left`} className="font-mono font-semibold tabular-nums text-emerald-800">
            {formatCountdown(Date.parse(r.endsAt) - now)}
          </span>
          <span className="text-zinc-500">
            {" "}
            · until <time dateTime={r.endsAt} title={formatExact(r.endsAt)}>{formatClock(r.endsAt, now)}</time>
          </span>
        </Fact>
      )}

      {r.approvalsNeeded > 1 && (
        <Fact label="Approvals" wide>
          <span className="font-medium">
            {r.approvals.length} of {r.approvalsNeeded}
          </span>
          {r.approvals.length > 0 ? (
            <ul className="mt-0.5 space-y-0.5">
              {r.approvals.map((a) => (
                <li key={a.userId}>
                  Approved by {a.email} at <time dateTime={a.at} title={formatExact(a.at)}>{formatClock(a.at, now)}</time>
                </li>
              ))}
            </ul>
          ) : (
            <span className="text-zinc-500"> · nobody has approved yet</span>
          )}
        </Fact>
      )}

      {r.status !== "pending" && <Decision request={r} now={now} />}

      {applied && (
        <Fact label="On the computer" wide>
          <span className={cx("inline-flex items-center gap-1.5", applied.applied ? "text-emerald-800" : "text-amber-800")}>
            <span aria-hidden="true">{applied.applied ? "✓" : "…"}</span>
            <span>{applied.text}</span>
          </span>
        </Fact>
      )}

      {full && (
        <>
          <Fact label="Asked">
            <time dateTime={r.createdAt}>{formatExact(r.createdAt)}</time>
          </Fact>
          <Fact label="Request ID">
            <span className="break-all font-mono text-xs">{r.id}</span>
          </Fact>
        </>
      )}
    </dl>
  );
}

function Decision({ request: r, now }: { request: RequestView; now: number }) {
  const when = (iso: string | null) =>
    iso ? (
      <>
        {" "}
        at <time dateTime={iso} title={formatExact(iso)}>{formatClock(iso, now)}</time>
      </>
    ) : null;
  // With two-person approval every approver is listed under Approvals; the decision line need not repeat one of them.
  const listed = r.approvalsNeeded > 1 && r.decidedBy?.type === "user" && r.status !== "declined";
  const by = r.decidedBy && !listed ? (r.decidedBy.type === "rule" ? `Autonomous Approval rule “${r.decidedBy.name}”` : r.decidedBy.name) : null;
  const lines: ReactNode[] = [];
  if (r.status === "approved" || r.status === "revoked" || r.status === "expired") {
    lines.push(
      <>
        Approved{by ? ` by ${by}` : listed ? ` by ${r.approvals.length} people` : ""}
        {when(r.decidedAt)}
        {r.note ? <> — “{r.note}”</> : null}
      </>,
    );
  }
  if (r.status === "declined") {
    lines.push(
      <>
        Declined{by ? ` by ${by}` : ""}
        {when(r.decidedAt)}
        {r.declineReason ? <> — “{r.declineReason}”</> : null}
      </>,
    );
  }
  if (r.status === "revoked") {
    const who = r.revokedBy ? (r.revokedBy.type === "enduser" ? `${r.revokedBy.name} (ended early)` : r.revokedBy.name) : null;
    lines.push(
      <>
        Revoked{who ? ` by ${who}` : ""}
        {when(r.endsAt)}
        {r.revokeReason ? <> — “{r.revokeReason}”</> : null}
      </>,
    );
  }
  if (r.status === "expired") lines.push(<>Ended by itself{when(r.endsAt)}</>);
  if (r.status === "cancelled") lines.push(<>Cancelled by the user{when(r.decidedAt)}</>);
  if (r.status === "lapsed") lines.push(<>Nobody answered in time{when(r.decidedAt)}</>);
  if (lines.length === 0) return null;
  return (
    <Fact label="Decision" wide>
      <ul className="space-y-0.5">
        {lines.map((l, i) => (
          <li key={i}>{l}</li>
        ))}
      </ul>
    </Fact>
  );
}

function AppIdentity({ app, full }: { app: RequestView["app"]; full: boolean }) {
  const bits: ReactNode[] = [];
  if (app.packageName) bits.push(`${app.packageName}${app.packageVersion ? ` ${app.packageVersion}` : ""}`);
  if (app.vendor) bits.push(app.vendor);
  if (app.clsid) bits.push(`CLSID ${app.clsid}`);
  return (
    <span className="mt-0.5 flex flex-wrap items-center gap-x-2 gap-y-1 text-xs text-zinc-600">
      {app.verified === true && <Badge className="bg-emerald-50 text-emerald-800 ring-emerald-300">Verified</Badge>}
      {app.verified === false && <Badge className="bg-amber-50 text-amber-800 ring-amber-300">Not verified</Badge>}
      {bits.map((b, i) => (
        <span key={i}>{b}</span>
      ))}
      <span className="break-all font-mono" title={app.sha256}>
        SHA-256 {full ? app.sha256 : `${app.sha256.slice(0, 12)}…`}
      </span>
    </span>
  );
}

function Fact({ label, wide, children }: { label: string; wide?: boolean; children: ReactNode }) {
  return (
    <div className={cx("min-w-0", wide && "sm:col-span-2")}>
      <dt className="text-xs font-medium uppercase tracking-wide text-zinc-500">{label}</dt>
      <dd className="mt-0.5 text-zinc-800">{children}</dd>
    </div>
  );
}

/** A decision made on this device that waits to sync, or that the server refused (e.g. someone else was first). */
export function RequestSyncNotice({ requestId }: { requestId: string }) {
  const sync = useSync();
  const waiting = sync.waiting.filter((e) => e.payload.id === requestId);
  const refused = sync.refused.filter((e) => e.payload.id === requestId);
  if (waiting.length === 0 && refused.length === 0) return null;
  return (
    <div className="space-y-2">
      {waiting.map((e) => (
        <p key={e.id} className="flex items-center gap-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-300">
          <span aria-hidden="true">⏳</span>
          <span>
            <span className="font-medium">Waiting to sync</span>: {OUTBOX_LABELS[e.kind]} ({describeWhen(e.clientAt)})
          </span>
        </p>
      ))}
      {refused.map((e) => (
        <div key={e.id} role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-900 ring-1 ring-inset ring-red-300">
          <p>
            <span className="font-medium">Your {OUTBOX_LABELS[e.kind].toLowerCase()} was not accepted:</span> {e.message ?? "refused by the server."}
          </p>
          <Button variant="ghost" className="mt-1" onClick={() => sync.dismiss(e.id)}>
            Dismiss
          </Button>
        </div>
      ))}
    </div>
  );
}

function describeWhen(iso: string): string {
  return `made at ${new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
}
