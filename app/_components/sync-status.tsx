"use client";
// The sync indicator of the shell: online or offline, when the local store last synced, how many changes wait to
// sync, an error with Retry, and the changes the server refused (each with its reason) until the admin dismisses them.
import { useEffect, useId, useState } from "react";
import type { OutboxEntry, OutboxKind } from "../_lib/db/contract";
import { useSync } from "../_lib/db/sync-provider";
import { formatExact, formatRelative } from "../_lib/format";
import { Button, cx } from "./ui";

export const OUTBOX_LABELS: Record<OutboxKind, string> = {
  "request.approve": "Approve request",
  "request.decline": "Decline request",
  "request.revoke": "Revoke access",
  "policy.create": "Create policy",
  "policy.update": "Edit policy",
  "policy.deploy": "Deploy policy",
  "policy.disable": "Disable policy",
  "settings.update": "Save settings",
};

function useTick(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

export function SyncStatus({ compact = false }: { compact?: boolean }) {
  const sync = useSync();
  const now = useTick(15_000);
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const waiting = sync.waiting.length;
  const refused = sync.refused.length;

  let label: string;
  let tone: string;
  if (!sync.online) {
    label = waiting > 0 ? `Offline · ${waiting} waiting to sync` : "Offline";
    tone = "bg-amber-50 text-amber-900 ring-amber-300";
  } else if (sync.error) {
    label = "Sync failed";
    tone = "bg-red-50 text-red-800 ring-red-300";
  } else if (waiting > 0) {
    label = `${waiting} waiting to sync`;
    tone = "bg-amber-50 text-amber-900 ring-amber-300";
  } else if (refused > 0) {
    label = `${refused} not accepted`;
    tone = "bg-red-50 text-red-800 ring-red-300";
  } else {
    label = sync.unavailable ? "Online" : sync.store && sync.caughtUp ? "Synced" : "Syncing…";
    tone = "bg-emerald-50 text-emerald-800 ring-emerald-300";
  }

  return (
    <div className="relative">
      <button
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={`Sync: ${label}`}
        onClick={() => setOpen((o) => !o)}
        className={cx("inline-flex min-h-11 items-center gap-2 rounded-lg px-3 text-sm font-medium ring-1 ring-inset", compact ? "max-w-40" : "w-full", tone)}
      >
        <span aria-hidden="true" className={cx("size-2 shrink-0 rounded-full", sync.online ? (sync.error || refused ? "bg-red-500" : "bg-emerald-500") : "bg-amber-500")} />
        <span className="truncate">{label}</span>
      </button>
      {open && (
        <section
          id={panelId}
          aria-label="Sync"
          className={cx(compact ? "absolute right-0 top-full z-30 w-[min(20rem,calc(100vw-2rem))]" : "", "mt-2 space-y-3 rounded-lg border border-zinc-200 bg-white p-3 text-sm shadow-sm")}
        >
          <p>
            <span className="font-medium">{sync.online ? "Online" : "Offline"}</span>
            {sync.online ? "" : ": changes are kept on this device and sync when the network returns."}
          </p>
          <p className="text-zinc-600">
            Last synced{" "}
            {sync.lastSyncedAt ? (
              <time dateTime={new Date(sync.lastSyncedAt).toISOString()} title={formatExact(new Date(sync.lastSyncedAt).toISOString())}>
                {formatRelative(new Date(sync.lastSyncedAt).toISOString(), Math.max(now, sync.lastSyncedAt))}
              </time>
            ) : (
              "not yet in this visit"
            )}
          </p>
          <p>{waiting === 0 ? "Nothing waiting to sync." : `${waiting} ${waiting === 1 ? "change" : "changes"} waiting to sync.`}</p>
          {sync.error && (
            <div role="alert" className="space-y-2 rounded-md bg-red-50 p-2 text-red-800">
              <p>Sync failed: {sync.error}</p>
              <Button variant="secondary" onClick={sync.retry}>
                Retry
              </Button>
            </div>
          )}
          {refused > 0 && (
            <div>
              <h2 className="font-medium text-red-800">Not accepted by the server</h2>
              <ul aria-label="Changes not accepted" className="mt-1 space-y-2">
                {sync.refused.map((e) => (
                  <RefusedItem key={e.id} entry={e} onDismiss={() => sync.dismiss(e.id)} />
                ))}
              </ul>
            </div>
          )}
        </section>
      )}
    </div>
  );
}

function RefusedItem({ entry, onDismiss }: { entry: OutboxEntry; onDismiss: () => void }) {
  return (
    <li className="rounded-md border border-red-200 bg-red-50 p-2 text-red-900">
      <p className="font-medium">{OUTBOX_LABELS[entry.kind]}</p>
      <p>{entry.message ?? "Refused by the server."}</p>
      <p className="text-xs text-red-700">
        Made <time dateTime={entry.clientAt}>{formatExact(entry.clientAt)}</time>
      </p>
      <Button variant="ghost" className="mt-1" onClick={onDismiss}>
        Dismiss
      </Button>
    </li>
  );
}
