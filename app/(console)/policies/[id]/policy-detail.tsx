"use client";
// A policy's page: what it says (Details), every revision (Versions), Test access, and its Audit trail; with Edit,
// Duplicate, Deploy, Disable and (for a draft) Delete. Details come from the local store like the Policies page (and
// are there offline); Deploy and Disable go through the outbox; the other tabs, Duplicate and Delete need the network.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type ReactNode } from "react";
import { describeAppRule } from "../../../../core/app-rule";
import type { PolicyView } from "../../../../core/console-api";
import { can } from "../../../../core/roles";
import { AuditTrail } from "../../../_components/audit-trail";
import { useConsoleUser } from "../../../_components/console-shell";
import { NeedsNetwork } from "../../../_components/needs-network";
import type { PolicyDoc } from "../../../../core/sync";
import { useOutboxAction, useSync } from "../../../_lib/db/sync-provider";
import { localFirst, useLocalDoc } from "../../../_lib/db/use-local-doc";
import { TestAccess } from "../../../_components/test-access";
import { Alert, Button, cx, LinkButton, PageHeader, Panel, Spinner, StatusBadge } from "../../../_components/ui";
import { errorMessage } from "../../../_lib/errors";
import { describePolicyDuration, describeScope, describeUsers, formatExact } from "../../../_lib/format";
import { useTRPC } from "../../../_lib/trpc";

const TABS = ["Details", "Versions", "Test access", "Audit"] as const;
type Tab = (typeof TABS)[number];

export function PolicyDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const user = useConsoleUser();
  const mayWrite = can(user.role, "policies.write");
  const queryClient = useQueryClient();
  const [tab, setTab] = useState<Tab>("Details");
  const sync = useSync();
  const local = useLocalDoc<PolicyDoc>("policies", id);
  const q = localFirst(local, policyView, useQuery({ ...trpc.policies.get.queryOptions({ id }), enabled: local.askServer }), !sync.online);
  const refresh = () => queryClient.invalidateQueries();
  const deploy = useOutboxAction("policy.deploy", useMutation(trpc.policies.deploy.mutationOptions({ onSuccess: refresh })), refresh);
  const disable = useOutboxAction("policy.disable", useMutation(trpc.policies.disable.mutationOptions({ onSuccess: refresh })), refresh);
  const duplicate = useMutation(trpc.policies.duplicate.mutationOptions({ onSuccess: async (r) => {
    await refresh();
    router.push(`/policies/${r.policy.id}`);
  } }));
  const remove = useMutation(trpc.policies.delete.mutationOptions({ onSuccess: async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.policies.list.queryKey() });
    router.push("/policies");
  } }));
  const busy = deploy.isPending || disable.isPending || duplicate.isPending || remove.isPending;
  const offline = !sync.online;
  const actionError = deploy.error ?? disable.error ?? duplicate.error ?? remove.error;

  if (q.isError) return <Alert title="Could not load the policy">{errorMessage(q.error)}</Alert>;
  if (q.isPending || !q.data) return <Spinner label="Loading the policy…" />;
  const p = q.data;
  const status = p.effectiveStatus;
  const mayDeploy = status === "draft" || status === "disabled" || (status === "expired" && p.duration.type === "fixed");

  const actions = mayWrite ? (
    <div className="flex flex-wrap gap-2">
      <LinkButton href={`/policies/${p.id}/edit`} variant="secondary">
        Edit
      </LinkButton>
      <Button variant="secondary" onClick={() => duplicate.mutate({ id: p.id })} disabled={busy || offline}>
        Duplicate
      </Button>
      {mayDeploy && (
        <Button onClick={() => deploy.mutate({ id: p.id })} disabled={busy}>
          Deploy
        </Button>
      )}
      {status === "deployed" && (
        <Button variant="danger" onClick={() => disable.mutate({ id: p.id })} disabled={busy}>
          Disable
        </Button>
      )}
      {status === "draft" && (
        <Button
          variant="danger"
          disabled={busy || offline}
          onClick={() => {
            if (window.confirm(`Delete the draft "${p.name}"? Only drafts can be deleted; this cannot be undone.`)) remove.mutate({ id: p.id });
          }}
        >
          Delete
        </Button>
      )}
    </div>
  ) : null;

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-zinc-500">
        <Link href="/policies" className="inline-flex min-h-11 items-center hover:text-zinc-800 hover:underline">
          Policies
        </Link>
        <span aria-hidden="true"> / </span>
        <span>{p.name}</span>
      </nav>
      <PageHeader
        title={
          <span className="inline-flex flex-wrap items-center gap-3">
            {p.name} <StatusBadge status={status} />
          </span>
        }
        description={p.description || undefined}
        actions={actions}
      />
      <div aria-live="polite" className="mb-4 empty:mb-0">
        {actionError && <Alert title="The policy was not changed">{errorMessage(actionError)}</Alert>}
      </div>

      <div role="tablist" aria-label="Policy" className="mb-4 flex gap-1 overflow-x-auto border-b border-zinc-200">
        {TABS.map((t) => (
          <button
            key={t}
            role="tab"
            type="button"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`panel-${t}`}
            onClick={() => setTab(t)}
            className={cx(
              "min-h-11 whitespace-nowrap border-b-2 px-4 text-sm font-medium",
              tab === t ? "border-indigo-600 text-indigo-700" : "border-transparent text-zinc-600 hover:text-zinc-900",
            )}
          >
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "Details" && <Details policy={p} />}
        {tab === "Versions" && (
          <NeedsNetwork what="The list of versions">
            <Versions id={p.id} />
          </NeedsNetwork>
        )}
        {tab === "Test access" && (
          <NeedsNetwork what="Test access">
            <TestAccess preferComputers={p.computers} />
          </NeedsNetwork>
        )}
        {tab === "Audit" && (
          <NeedsNetwork what="The policy's audit trail">
            <AuditTrail policyId={p.id} />
          </NeedsNetwork>
        )}
      </div>
    </>
  );
}

/** A replicated policy as the page shows it: its revision replicates as `policyRevision` (core/sync.ts). */
function policyView({ policyRevision, ...doc }: PolicyDoc): PolicyView {
  return { ...doc, revision: policyRevision } as unknown as PolicyView;
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid gap-1 py-3 sm:grid-cols-[12rem_minmax(0,1fr)] sm:gap-4">
      <dt className="text-sm text-zinc-500">{label}</dt>
      <dd className="min-w-0 text-sm text-zinc-900">{children}</dd>
    </div>
  );
}

function Applications({ applications }: { applications: PolicyView["applications"] }) {
  if (applications === "allAllowed") {
    return (
      <>
        All Allowed Application(s) (<Link href="/allowlist" className="text-indigo-700 hover:underline">the allowlist</Link>)
      </>
    );
  }
  return (
    <ul className="space-y-1">
      {applications.map((r, i) => (
        <li key={i} className="break-all font-mono text-xs">
          {describeAppRule(r)}
        </li>
      ))}
    </ul>
  );
}

function Details({ policy: p }: { policy: PolicyView }) {
  return (
    <Panel className="px-5 sm:px-6">
      <dl className="divide-y divide-zinc-100">
        <Row label="Computers">{p.computers.join(", ")}</Row>
        <Row label="Users">{describeUsers(p.users)}</Row>
        <Row label="Duration">{describePolicyDuration(p.duration)}</Row>
        {p.startsAt && p.endsAt && (
          <Row label="In force">
            <time dateTime={p.startsAt}>{formatExact(p.startsAt)}</time> – <time dateTime={p.endsAt}>{formatExact(p.endsAt)}</time>
          </Row>
        )}
        <Row label="Self-elevation scope">{describeScope(p.applications)}</Row>
        <Row label="Applications">
          <Applications applications={p.applications} />
        </Row>
        <Row label="Revision">{p.revision}</Row>
        <Row label="Created">{formatExact(p.createdAt)}</Row>
        <Row label="Last changed">{formatExact(p.updatedAt)}</Row>
      </dl>
    </Panel>
  );
}

function Versions({ id }: { id: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.policies.versions.queryOptions({ id }));
  if (q.isPending) return <Spinner label="Loading versions…" />;
  if (q.isError) return <Alert title="Could not load the versions">{errorMessage(q.error)}</Alert>;
  return (
    <ol aria-label="Versions" className="space-y-3">
      {q.data.versions.map((v) => (
        <li key={v.revision}>
          <Panel className="px-5 sm:px-6">
            <h3 className="pt-4 text-sm font-semibold text-zinc-900">
              Revision {v.revision}
              <span className="ml-2 font-normal text-zinc-500">
                <time dateTime={v.createdAt}>{formatExact(v.createdAt)}</time>
                {v.createdBy ? ` by ${v.createdBy}` : ""}
              </span>
            </h3>
            <dl className="divide-y divide-zinc-100">
              <Row label="Name">{v.name}</Row>
              {v.description && <Row label="Description">{v.description}</Row>}
              <Row label="Computers">{v.computers.join(", ")}</Row>
              <Row label="Users">{describeUsers(v.users)}</Row>
              <Row label="Duration">{describePolicyDuration(v.duration)}</Row>
              <Row label="Applications">
                <Applications applications={v.applications} />
              </Row>
            </dl>
          </Panel>
        </li>
      ))}
    </ol>
  );
}
