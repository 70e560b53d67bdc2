"use client";
// Edit a policy with the Create form, filled with its current content: from the local store like the policy's page
// (so also offline; saving goes through the outbox), else from the server.
import { useQuery } from "@tanstack/react-query";
import type { PolicyDoc } from "../../../../../core/sync";
import { Alert, Spinner } from "../../../../_components/ui";
import { useSync } from "../../../../_lib/db/sync-provider";
import { localFirst, useLocalDoc } from "../../../../_lib/db/use-local-doc";
import { errorMessage } from "../../../../_lib/errors";
import { policyToForm } from "../../../../_lib/policy-form";
import { useTRPC } from "../../../../_lib/trpc";
import { NewPolicyForm } from "../../new/new-policy-form";

export function EditPolicy({ id }: { id: string }) {
  const trpc = useTRPC();
  const sync = useSync();
  const local = useLocalDoc<PolicyDoc>("policies", id);
  const online = useQuery({ ...trpc.policies.get.queryOptions({ id }), staleTime: Infinity, refetchOnWindowFocus: false, enabled: local.askServer });
  // The form takes its content once (NewPolicyForm keeps it in state): later changes to the policy do not reset it.
  const q = localFirst(local, ({ policyRevision, ...doc }) => ({ ...doc, revision: policyRevision }), online, !sync.online);
  if (q.isError) return <Alert title="Could not load the policy">{errorMessage(q.error)}</Alert>;
  if (q.isPending || !q.data) return <Spinner label="Loading the policy…" />;
  const p = q.data;
  return <NewPolicyForm editing={{ id: p.id, name: p.name, deployed: p.effectiveStatus === "deployed", initial: policyToForm(p) }} />;
}
