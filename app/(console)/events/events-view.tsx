"use client";
// The Just-In-Time events report: the audit trail filtered by time, event type, computer, end user, console user,
// policy and words of the justification; newest first with keyset paging; the filtered set exported as CSV or JSON Lines.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo, useState, type FormEvent } from "react";
import { describeActor, type EventFilter, type EventView } from "../../../core/audit";
import { EVENT_TYPE_NAMES, EVENT_TYPES, type EventType } from "../../../core/events";
import { AuditVerification } from "../../_components/audit-settings";
import { useEventPages } from "../../_components/audit-trail";
import { Alert, Button, cx, EmptyState, Field, inputClass, PageHeader, Panel, Spinner, stackTable } from "../../_components/ui";
import { summarizeEvent } from "../../_lib/audit-format";
import { errorMessage } from "../../_lib/errors";
import { browserTimeZone, formatExact, formatShort } from "../../_lib/format";
import { useTRPC } from "../../_lib/trpc";
import { OfflineRecentEvents } from "./recent-events";

type Form = { from: string; to: string; type: string; computerId: string; endUser: string; consoleUser: string; policyId: string; text: string };
const EMPTY: Form = { from: "", to: "", type: "", computerId: "", endUser: "", consoleUser: "", policyId: "", text: "" };

function toFilter(f: Form): EventFilter {
  const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);
  const t = (s: string) => s.trim() || undefined;
  return {
    from: iso(f.from),
    to: iso(f.to),
    types: f.type ? [f.type as EventType] : undefined,
    computerId: t(f.computerId),
    endUser: t(f.endUser),
    consoleUser: t(f.consoleUser),
    policyId: t(f.policyId),
    text: t(f.text),
  };
}

function exportHref(filter: EventFilter, format: "csv" | "jsonl"): string {
  const q = new URLSearchParams({ format });
  for (const [k, v] of Object.entries(filter)) {
    if (Array.isArray(v)) for (const x of v) q.append("type", x);
    else if (typeof v === "string" && v) q.set(k, v);
  }
  return `/api/export/events?${q}`;
}

export function EventsView() {
  const trpc = useTRPC();
  const [form, setForm] = useState<Form>(EMPTY);
  const [applied, setApplied] = useState<Form>(EMPTY);
  const filter = useMemo(() => toFilter(applied), [applied]);
  const pages = useEventPages(filter, 50, "events-report");
  const computers = useQuery(trpc.computers.list.queryOptions());
  const policies = useQuery(trpc.policies.list.queryOptions());
  const computerNames = new Map((computers.data?.computers ?? []).map((c) => [c.id, c.name]));
  const policyNames = new Map((policies.data?.policies ?? []).map((p) => [p.id, p.name]));
  const events = pages.data?.pages.flatMap((p) => p.events) ?? [];
  const set = (k: keyof Form) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setApplied(form);
  };
  const filtered = Object.values(applied).some(Boolean);
  const activeCount = Object.values(applied).filter(Boolean).length;
  // On a phone the filters fold away behind one button, so the events come first.
  const [showFilters, setShowFilters] = useState(false);

  const exports = (
    <>
      <a className={cx("inline-flex min-h-11 items-center justify-center gap-2 rounded-lg border border-zinc-300 bg-white px-4 text-sm font-medium text-zinc-800 shadow-sm hover:bg-zinc-50")} href={exportHref(filter, "csv")} download>
        Export CSV
      </a>
      <a className={cx("inline-flex min-h-11 items-center justify-center gap-2 rounded-lg border border-zinc-300 bg-white px-4 text-sm font-medium text-zinc-800 shadow-sm hover:bg-zinc-50")} href={exportHref(filter, "jsonl")} download>
        Export JSON Lines
      </a>
    </>
  );

  return (
    <>
      <PageHeader
        title="Events"
        description="The Just-In-Time events report: who had elevation, on which computer, for what, when, on whose approval and why. Each event carries the hash of the one before it."
        actions={exports}
      />

      <OfflineRecentEvents />

      <AuditVerification compact />

      <div className="mt-4 lg:hidden">
        <Button variant="secondary" aria-expanded={showFilters} aria-controls="event-filters" onClick={() => setShowFilters((v) => !v)} className="w-full">
          {showFilters ? "Hide filters" : activeCount ? `Filters (${activeCount} on)` : "Filters"}
        </Button>
      </div>
      <Panel className={cx("mt-4 p-4 sm:p-5", !showFilters && "max-lg:hidden")}>
        <form id="event-filters" onSubmit={onSubmit} aria-label="Filter events" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
          <Field id="ev-from" label="From" hint={browserTimeZone()}>
            {(p) => <input {...p} type="datetime-local" className={inputClass} value={form.from} onChange={set("from")} />}
          </Field>
          <Field id="ev-to" label="To">
            {(p) => <input {...p} type="datetime-local" className={inputClass} value={form.to} onChange={set("to")} />}
          </Field>
          <Field id="ev-type" label="Event type">
            {(p) => (
              <select {...p} className={inputClass} value={form.type} onChange={set("type")}>
                <option value="">Any event</option>
                {EVENT_TYPE_NAMES.map((t) => (
                  <option key={t} value={t}>
                    {EVENT_TYPES[t]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id="ev-computer" label="Computer">
            {(p) => (
              <select {...p} className={inputClass} value={form.computerId} onChange={set("computerId")}>
                <option value="">Any computer</option>
                {(computers.data?.computers ?? []).map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id="ev-end-user" label="End user" hint="The account on the computer">
            {(p) => <input {...p} className={inputClass} value={form.endUser} onChange={set("endUser")} autoCapitalize="off" autoCorrect="off" spellCheck={false} />}
          </Field>
          <Field id="ev-console-user" label="Console user" hint="Email of an admin or approver">
            {(p) => <input {...p} type="email" className={inputClass} value={form.consoleUser} onChange={set("consoleUser")} autoCapitalize="off" spellCheck={false} />}
          </Field>
          <Field id="ev-policy" label="Policy">
            {(p) => (
              <select {...p} className={inputClass} value={form.policyId} onChange={set("policyId")}>
                <option value="">Any policy</option>
                {(policies.data?.policies ?? []).map((x) => (
                  <option key={x.id} value={x.id}>
                    {x.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id="ev-text" label="Justification contains">
            {(p) => <input {...p} type="search" className={inputClass} value={form.text} onChange={set("text")} />}
          </Field>
          <div className="flex flex-wrap gap-2 sm:col-span-2 lg:col-span-4">
            <Button type="submit">Apply filters</Button>
            <Button
              variant="ghost"
              onClick={() => {
                setForm(EMPTY);
                setApplied(EMPTY);
              }}
              disabled={!filtered && !Object.values(form).some(Boolean)}
            >
              Clear
            </Button>
          </div>
        </form>
      </Panel>

      <div className="mt-4" aria-live="polite">
        {pages.isPending ? (
          <Spinner label="Loading events…" />
        ) : pages.isError ? (
          <Alert title="Could not load the events">{errorMessage(pages.error)}</Alert>
        ) : events.length === 0 ? (
          <EmptyState title={filtered ? "No events match these filters" : "No events yet"}>{filtered ? "Widen the time range or clear a filter." : "Events show here as they happen."}</EmptyState>
        ) : (
          <EventsTable events={events} computerNames={computerNames} policyNames={policyNames} />
        )}
      </div>
      {pages.hasNextPage && (
        <div className="mt-3">
          <Button variant="secondary" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
            {pages.isFetchingNextPage ? "Loading…" : "Show older events"}
          </Button>
        </div>
      )}
    </>
  );
}

function EventsTable({ events, computerNames, policyNames }: { events: EventView[]; computerNames: Map<string, string>; policyNames: Map<string, string> }) {
  const t = stackTable;
  return (
    <Panel className="overflow-hidden">
      <div className="relative overflow-x-auto">
        <table className={t.table}>
          <caption className="sr-only">Events, newest first</caption>
          <thead className={t.thead}>
            <tr className="border-b border-zinc-200">
              <th scope="col" className="px-4 py-3 lg:px-3">Time</th>
              <th scope="col" className="px-4 py-3 lg:px-3">Event</th>
              <th scope="col" className="px-4 py-3 lg:px-3">Actor</th>
              <th scope="col" className="px-4 py-3 lg:px-3">End user</th>
              <th scope="col" className="px-4 py-3 lg:px-3">Computer</th>
              <th scope="col" className="px-4 py-3 lg:px-3">Policy</th>
              <th scope="col" className="px-4 py-3 lg:px-3">Details</th>
            </tr>
          </thead>
          <tbody className={t.tbody}>
            {events.map((e) => (
              <tr key={e.seq} className={t.tr}>
                <td data-label="Time" className={cx(t.cell, "whitespace-nowrap text-zinc-700")}>
                  <time dateTime={e.at} title={formatExact(e.at)}>
                    {formatShort(e.at)}
                  </time>
                </td>
                <td data-label="Event" className={cx(t.cell, "font-medium text-zinc-900")}>
                  {e.label}
                </td>
                <td data-label="Actor" className={cx(t.cell, "text-zinc-700")}>{describeActor({ actor: e.actor, endUser: null })}</td>
                <td data-label="End user" className={cx(t.cell, "text-zinc-700")}>{e.endUser ?? ""}</td>
                <td data-label="Computer" className={cx(t.cell, "text-zinc-700")}>{e.computerId ? (computerNames.get(e.computerId) ?? e.computerId.slice(0, 8)) : ""}</td>
                <td data-label="Policy" className={cx(t.cell, "text-zinc-700")}>
                  {e.policyId ? (
                    <Link className="text-indigo-700 hover:underline" href={`/policies/${e.policyId}`}>
                      {policyNames.get(e.policyId) ?? e.policyId.slice(0, 8)}
                    </Link>
                  ) : (
                    ""
                  )}
                </td>
                <td data-label="Details" className={cx(t.cell, "max-w-md break-words text-xs text-zinc-600")}>
                  {summarizeEvent(e)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}
