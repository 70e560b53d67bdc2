"use client";
// Offline, the Events report (filters, export) needs the server; the newest events as last synced come from the local store.
import { describeActor } from "../../../core/audit";
import type { EventDoc } from "../../../core/sync";
import { Alert, Panel } from "../../_components/ui";
import { useLocalDocs, useSync } from "../../_lib/db/sync-provider";
import { formatExact, formatShort } from "../../_lib/format";

export function OfflineRecentEvents() {
  const sync = useSync();
  const events = useLocalDocs<EventDoc>("events", {}, [{ seq: "desc" }], 50);
  if (sync.online) return null;
  return (
    <div className="mb-4 space-y-3">
      <Alert tone="info" title="Offline: the Events report needs the network">
        Its filters and exports ask the server. Below are the newest events as last synced to this device.
      </Alert>
      {events && events.length > 0 && (
        <Panel className="p-4">
          <ul aria-label="Recent events, as last synced" className="space-y-2 text-sm">
            {events.map((e) => (
              <li key={e.id} className="flex flex-wrap gap-x-2">
                <time dateTime={e.at} title={formatExact(e.at)} className="text-zinc-500">
                  {formatShort(e.at)}
                </time>
                <span className="font-medium text-zinc-900">{e.label}</span>
                <span className="text-zinc-600">{describeActor(e)}</span>
              </li>
            ))}
          </ul>
        </Panel>
      )}
    </div>
  );
}
