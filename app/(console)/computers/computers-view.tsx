"use client";
// Enrolled computers, and Add computer: a one-time enrollment token and the command that uses it.
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import type { ComputerView, EnrollmentToken } from "../../../core/console-api";
import { can } from "../../../core/roles";
import { useConsoleUser } from "../../_components/console-shell";
import { CopyButton } from "../../_components/copy-button";
import { Alert, Badge, Button, cx, EmptyState, PageHeader, Panel, PlusIcon, Spinner, stackTable } from "../../_components/ui";
import type { ComputerDoc } from "../../../core/sync";
import { useLocalFirst, useServerOnly } from "../../_lib/db/sync-provider";
import { errorMessage } from "../../_lib/errors";
import { formatExact, formatRelative } from "../../_lib/format";
import { useTRPC } from "../../_lib/trpc";

export function ComputersView() {
  const trpc = useTRPC();
  const user = useConsoleUser();
  const mayEnroll = can(user.role, "computers.enroll");
  const [token, setToken] = useState<EnrollmentToken | null>(null);
  // From the local store (live, and there offline); from the server only when this browser keeps no store.
  const list = useLocalFirst(
    "computers",
    useQuery({ ...trpc.computers.list.queryOptions(), refetchInterval: token ? 3_000 : 30_000, enabled: useServerOnly() }),
    (docs: ComputerDoc[]) => ({ computers: [...docs].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()) || a.id.localeCompare(b.id)) }),
  );
  const create = useMutation(trpc.computers.createEnrollmentToken.mutationOptions({ onSuccess: setToken }));
  const now = useNow(30_000);

  const addButton = mayEnroll ? (
    <Button onClick={() => create.mutate()} disabled={create.isPending} aria-busy={create.isPending || undefined}>
      <PlusIcon /> Add computer
    </Button>
  ) : null;

  const computers = list.data?.computers ?? [];

  return (
    <>
      <PageHeader title="Computers" description="Computers with the JIT Access agent enrolled. Each one receives a signed bundle of the policies that apply to it." actions={addButton} />

      <div aria-live="polite" className="space-y-4">
        {create.isError && <Alert title="Could not create an enrollment token">{errorMessage(create.error)}</Alert>}
        {token && <EnrollmentPanel token={token} onClose={() => setToken(null)} />}
      </div>

      <div className="mt-4">
        {list.isPending ? (
          <Spinner label="Loading computers…" />
        ) : list.isError ? (
          <Alert title="Could not load the computers">{errorMessage(list.error)}</Alert>
        ) : computers.length === 0 ? (
          <EmptyState title="No computers enrolled yet">
            <p>
              {mayEnroll
                ? "Choose Add computer to get a one-time enrollment command, then run it on the computer where the JIT Access agent is installed. The computer shows here as soon as it enrolls."
                : "An owner or admin adds computers with a one-time enrollment command run on each computer. They show here once enrolled."}
            </p>
          </EmptyState>
        ) : (
          <ComputersTable computers={computers} now={now} />
        )}
      </div>
    </>
  );
}

function ComputersTable({ computers, now }: { computers: ComputerView[]; now: number }) {
  const t = stackTable;
  return (
    <Panel className="overflow-hidden">
      <div className="relative overflow-x-auto">
        <table className={t.table}>
          <caption className="sr-only">Enrolled computers</caption>
          <thead className={t.thead}>
            <tr className="border-b border-zinc-200">
              <th scope="col" className="px-4 py-3 lg:px-3">Name</th>
              <th scope="col" className="px-4 py-3 lg:px-3">OS</th>
              <th scope="col" className="px-4 py-3 lg:px-3">Agent version</th>
              <th scope="col" className="px-4 py-3 lg:px-3">Last seen</th>
              <th scope="col" className="px-4 py-3 lg:px-3">Bundle version</th>
            </tr>
          </thead>
          <tbody className={t.tbody}>
            {computers.map((c) => (
              <tr key={c.id} className={t.tr}>
                <td data-label="Name" className={cx(t.cell, "whitespace-nowrap font-medium text-zinc-900 max-sm:text-base")}>
                  <Link href={`/computers/${c.id}`} className="text-indigo-700 hover:underline" title={`${c.name}: details and Audit`}>
                    {c.name}
                  </Link>
                </td>
                <td data-label="OS" className={cx(t.cell, "text-zinc-700")}>{c.os}</td>
                <td data-label="Agent version" className={cx(t.cell, "whitespace-nowrap font-mono text-xs text-zinc-700")}>{c.agentVersion}</td>
                <td data-label="Last seen" className={cx(t.cell, "whitespace-nowrap text-zinc-700")}>
                  {c.lastSeenAt ? (
                    <time dateTime={c.lastSeenAt} title={formatExact(c.lastSeenAt)}>
                      {formatRelative(c.lastSeenAt, now)}
                    </time>
                  ) : (
                    <span className="text-zinc-500">Never</span>
                  )}
                </td>
                <td data-label="Bundle version" className={cx(t.cell, "whitespace-nowrap")}>
                  <BundleVersion applied={c.bundleVersion} latest={c.latestBundleVersion} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}

function BundleVersion({ applied, latest }: { applied: number | null; latest: number | null }) {
  const text = `${applied ?? "—"} / ${latest ?? "—"}`;
  if (latest === null) return <span className="text-zinc-500">{text}</span>;
  const current = applied !== null && applied >= latest;
  return (
    <span className="inline-flex items-center gap-2">
      <span className="font-mono text-xs text-zinc-700" title="Applied / latest">
        {text}
      </span>
      {current ? (
        <Badge className="bg-emerald-50 text-emerald-800 ring-emerald-300">Up to date</Badge>
      ) : (
        <Badge className="bg-amber-50 text-amber-800 ring-amber-300">Pending</Badge>
      )}
    </span>
  );
}

function EnrollmentPanel({ token, onClose }: { token: EnrollmentToken; onClose: () => void }) {
  return (
    <Panel className="border-indigo-200 p-5 sm:p-6">
      <div className="flex items-start justify-between gap-4">
        <div>
          <h2 className="text-base font-semibold text-zinc-900">Enroll a computer</h2>
          <p className="mt-1 text-sm text-zinc-600">
            Run this command on the computer, as root or an administrator, where the JIT Access agent is installed. The token works once and expires in 24 hours
            (<time dateTime={token.expiresAt}>{formatExact(token.expiresAt)}</time>).
          </p>
        </div>
        <Button variant="ghost" onClick={onClose} className="-mr-2 -mt-2 shrink-0">
          Done
        </Button>
      </div>
      <div className="mt-4">
        <div className="flex items-center justify-between gap-2">
          <span id="enroll-command-label" className="text-sm font-medium text-zinc-800">
            Enrollment command
          </span>
          <CopyButton text={token.command} label="Copy" />
        </div>
        <pre aria-labelledby="enroll-command-label" className="mt-2 whitespace-pre-wrap break-all rounded-lg bg-zinc-900 p-4 text-sm text-zinc-100">
          <code>{token.command}</code>
        </pre>
      </div>
      <dl className="mt-4 grid gap-3 text-sm sm:grid-cols-2">
        <div className="min-w-0">
          <dt className="text-zinc-500">Token</dt>
          <dd className="mt-0.5 break-all font-mono text-xs text-zinc-800">{token.token}</dd>
        </div>
        <div>
          <dt className="text-zinc-500">Expires</dt>
          <dd className="mt-0.5 text-zinc-800">
            <time dateTime={token.expiresAt}>{formatExact(token.expiresAt)}</time> (in 24 hours, works once)
          </dd>
        </div>
      </dl>
    </Panel>
  );
}

/** The current time, refreshed now and then, for "3 minutes ago". */
function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}
