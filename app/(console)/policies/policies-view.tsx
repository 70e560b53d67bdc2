"use client";
// Just-in-time policies (Application Elevation): the list, with Deploy and Disable for those who may write.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import type { PolicyView } from "../../../core/console-api";
import { can } from "../../../core/roles";
import { useConsoleUser } from "../../_components/console-shell";
import { Alert, Button, cx, EmptyState, LinkButton, PageHeader, Panel, PlusIcon, Spinner, StatusBadge, stackTable } from "../../_components/ui";
import type { PolicyDoc } from "../../../core/sync";
import { useLocalFirst, useOutboxAction, useServerOnly, useSync } from "../../_lib/db/sync-provider";
import { errorMessage } from "../../_lib/errors";
import { describeList, describePolicyDuration, describeScope, describeUsers, formatExact } from "../../_lib/format";
import { useTRPC } from "../../_lib/trpc";

export function PoliciesView() {
  const trpc = useTRPC();
  const user = useConsoleUser();
  const mayWrite = can(user.role, "policies.write");
  const queryClient = useQueryClient();
  // From the local store (live, and there offline); Deploy and Disable go through the outbox.
  const sync = useSync();
  const list = useLocalFirst(
    "policies",
    useQuery({ ...trpc.policies.list.queryOptions(), enabled: useServerOnly() }),
    (docs: PolicyDoc[]) => ({ policies: [...docs].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id)) as unknown as PolicyView[] }),
  );
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.policies.list.queryKey() });
  const deploy = useOutboxAction("policy.deploy", useMutation(trpc.policies.deploy.mutationOptions({ onSuccess: invalidate })));
  const disable = useOutboxAction("policy.disable", useMutation(trpc.policies.disable.mutationOptions({ onSuccess: invalidate })));
  const busyId = deploy.isPending ? deploy.variables?.id : disable.isPending ? disable.variables?.id : undefined;
  const actionError = deploy.error ?? disable.error;

  const createButton = mayWrite ? (
    <LinkButton href="/policies/new">
      <PlusIcon /> Create
    </LinkButton>
  ) : null;

  const policies = list.data?.policies ?? [];

  return (
    <>
      <PageHeader
        title="Policies"
        description="Just In Time Access policies: who may self-elevate which applications, on which computers, and for how long."
        actions={createButton}
      />
      <div aria-live="polite" className="mb-4 empty:mb-0">
        {actionError ? <Alert title="The policy was not changed">{errorMessage(actionError)}</Alert> : null}
      </div>
      {list.isPending ? (
        <Spinner label="Loading policies…" />
      ) : list.isError ? (
        <Alert title="Could not load the policies">{errorMessage(list.error)}</Alert>
      ) : policies.length === 0 ? (
        <EmptyState title="No policies yet">
          <p>
            {mayWrite
              ? "Choose Create to write an Application Elevation policy: the computers and users it covers, a Fixed duration or a Window, and the applications users may self-elevate."
              : "An owner or admin creates policies. They show here once created."}
          </p>
        </EmptyState>
      ) : (
        <Panel className="overflow-hidden">
          <div className="relative overflow-x-auto">
            <table className={stackTable.table}>
              <caption className="sr-only">Policies</caption>
              <thead className={stackTable.thead}>
                <tr className="border-b border-zinc-200">
                  <th scope="col" className="px-4 py-3 lg:px-3">Name</th>
                  <th scope="col" className="px-4 py-3 lg:px-3">Users</th>
                  <th scope="col" className="px-4 py-3 lg:px-3">Computers</th>
                  <th scope="col" className="px-4 py-3 lg:px-3">Duration</th>
                  <th scope="col" className="px-4 py-3 lg:px-3">Scope</th>
                  <th scope="col" className="px-4 py-3 lg:px-3">Status</th>
                  {mayWrite && (
                    <th scope="col" className="px-4 py-3 lg:px-3">
                      <span className="sr-only">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody className={stackTable.tbody}>
                {policies.map((p) => (
                  <PolicyRow
                    key={p.id}
                    policy={p}
                    mayWrite={mayWrite}
                    busy={busyId === p.id}
                    waiting={sync.waiting.some((e) => e.kind.startsWith("policy.") && e.payload.id === p.id)}
                    onDeploy={() => deploy.mutate({ id: p.id })}
                    onDisable={() => disable.mutate({ id: p.id })}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </Panel>
      )}
    </>
  );
}

function PolicyRow({
  policy: p,
  mayWrite,
  busy,
  waiting,
  onDeploy,
  onDisable,
}: {
  policy: PolicyView;
  mayWrite: boolean;
  busy: boolean;
  waiting: boolean;
  onDeploy: () => void;
  onDisable: () => void;
}) {
  const t = stackTable;
  const mayDeploy = p.effectiveStatus === "draft" || p.effectiveStatus === "disabled" || (p.effectiveStatus === "expired" && p.duration.type === "fixed");
  return (
    <tr className={t.tr}>
      <td data-label="Name" className={cx(t.cell, "font-medium text-zinc-900 max-sm:before:hidden max-sm:text-left max-sm:text-base")}>
        <div className="sm:min-w-32">
          <Link href={`/policies/${p.id}`} id={`policy-${p.id}-name`} className="hover:text-indigo-700 hover:underline">
            {p.name}
          </Link>
          {p.description && <div className="mt-0.5 line-clamp-2 text-xs font-normal text-zinc-500 sm:max-w-48">{p.description}</div>}
          {waiting && <div className="mt-0.5 text-xs font-medium text-amber-800">Waiting to sync</div>}
        </div>
      </td>
      <td data-label="Users" className={cx(t.cell, "text-zinc-700")}>
        <div className="sm:min-w-24 sm:max-w-48">{describeUsers(p.users)}</div>
      </td>
      <td data-label="Computers" className={cx(t.cell, "text-zinc-700")} title={p.computers.join(", ")}>
        <div className="sm:min-w-24 sm:max-w-48">{describeList(p.computers)}</div>
      </td>
      <td data-label="Duration" className={cx(t.cell, "text-zinc-700")}>
        <div className="sm:min-w-32">
          {describePolicyDuration(p.duration)}
          {p.effectiveStatus === "deployed" && p.duration.type === "fixed" && p.endsAt && (
            <div className="mt-0.5 text-xs text-zinc-500">
              until <time dateTime={p.endsAt}>{formatExact(p.endsAt)}</time>
            </div>
          )}
        </div>
      </td>
      <td data-label="Scope" className={cx(t.cell, "text-zinc-700")}>
        <div className="sm:min-w-32">{describeScope(p.applications)}</div>
      </td>
      <td data-label="Status" className={t.cell}>
        <StatusBadge status={p.effectiveStatus} />
      </td>
      {mayWrite && (
        <td className={cx(t.cell, "whitespace-nowrap sm:py-2 sm:text-right max-sm:justify-end max-sm:pt-2 max-sm:before:hidden")}>
          {mayDeploy && (
            <Button variant="secondary" onClick={onDeploy} disabled={busy} aria-describedby={`policy-${p.id}-name`}>
              Deploy
            </Button>
          )}
          {p.effectiveStatus === "deployed" && (
            <Button variant="danger" onClick={onDisable} disabled={busy} aria-describedby={`policy-${p.id}-name`}>
              Disable
            </Button>
          )}
        </td>
      )}
    </tr>
  );
}
