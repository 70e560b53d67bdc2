"use client";
// Edit a policy with the Create form, filled with its current content.
import { useQuery } from "@tanstack/react-query";
import { Alert, Spinner } from "../../../../_components/ui";
import { errorMessage } from "../../../../_lib/errors";
import { policyToForm } from "../../../../_lib/policy-form";
import { useTRPC } from "../../../../_lib/trpc";
import { NewPolicyForm } from "../../new/new-policy-form";

export function EditPolicy({ id }: { id: string }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.policies.get.queryOptions({ id }), staleTime: Infinity, refetchOnWindowFocus: false });
  if (q.isPending) return <Spinner label="Loading the policy…" />;
  if (q.isError) return <Alert title="Could not load the policy">{errorMessage(q.error)}</Alert>;
  const p = q.data;
  return <NewPolicyForm editing={{ id: p.id, name: p.name, deployed: p.effectiveStatus === "deployed", initial: policyToForm(p) }} />;
}
