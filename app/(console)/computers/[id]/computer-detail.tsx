"use client";
// One computer: what the agent last reported (from the local store like the Computers page, so also offline), and
// its Audit trail (enrollment, elevations allowed and denied, grants ended), which needs the network.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { ComputerView } from "../../../../core/console-api";
import type { ComputerDoc } from "../../../../core/sync";
import { AuditTrail } from "../../../_components/audit-trail";
import { NeedsNetwork } from "../../../_components/needs-network";
import { useSync } from "../../../_lib/db/sync-provider";
import { localFirst, useLocalDoc } from "../../../_lib/db/use-local-doc";
import { Alert, PageHeader, Panel, Spinner } from "../../../_components/ui";
import { errorMessage } from "../../../_lib/errors";
import { formatExact } from "../../../_lib/format";
import { useTRPC } from "../../../_lib/trpc";

export function ComputerDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const sync = useSync();
  const local = useLocalDoc<ComputerDoc>("computers", id);
  const online = useQuery({
    ...trpc.computers.list.queryOptions(),
    enabled: local.askServer,
    select: (d): ComputerView | null => d.computers.find((c) => c.id === id) ?? null,
  });
  const list = localFirst(local, (doc): ComputerView | null => doc, online, !sync.online);
  const computer = list.data;
  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link href="/computers" className="inline-flex min-h-11 items-center text-indigo-700 hover:underline">
          Computers
        </Link>
      </nav>
      {list.isError ? (
        <Alert title="Could not load the computer">{errorMessage(list.error)}</Alert>
      ) : list.isPending ? (
        <Spinner label="Loading the computer…" />
      ) : !computer ? (
        <Alert title="No such computer">It may have been removed. Its events stay on the audit trail under Events.</Alert>
      ) : (
        <>
          <PageHeader title={computer.name} description={`${computer.os} · agent ${computer.agentVersion}`} />
          <Panel className="mb-6 p-5">
            <dl className="grid gap-3 text-sm sm:grid-cols-3">
              <div>
                <dt className="text-zinc-500">Enrolled</dt>
                <dd className="mt-0.5 text-zinc-800">{formatExact(computer.enrolledAt)}</dd>
              </div>
              <div>
                <dt className="text-zinc-500">Last seen</dt>
                <dd className="mt-0.5 text-zinc-800">{computer.lastSeenAt ? formatExact(computer.lastSeenAt) : "Never"}</dd>
              </div>
              <div>
                <dt className="text-zinc-500">Bundle version (applied / latest)</dt>
                <dd className="mt-0.5 font-mono text-xs text-zinc-800">
                  {computer.bundleVersion ?? "—"} / {computer.latestBundleVersion ?? "—"}
                </dd>
              </div>
            </dl>
          </Panel>
        </>
      )}
      <h2 className="mb-3 text-lg font-semibold text-zinc-900">Audit</h2>
      <NeedsNetwork what="The computer's audit trail">
        <AuditTrail computerId={id} />
      </NeedsNetwork>
    </>
  );
}
