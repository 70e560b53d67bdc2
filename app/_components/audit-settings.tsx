"use client";
// The audit trail's settings and health, for the Settings page (and, compact, atop the Events report): the last
// chain verification with "Verify now", and retention (export, then prune events older than N days).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import type { Verification } from "../../core/audit";
import { can } from "../../core/roles";
import { errorMessage } from "../_lib/errors";
import { formatExact } from "../_lib/format";
import { useTRPC } from "../_lib/trpc";
import { useConsoleUser } from "./console-shell";
import { Alert, Badge, Button, Field, inputClass, Panel, Spinner } from "./ui";

function describe(v: Verification): string {
  if (!v.ok) return `Broken at event #${v.badSeq}: ${v.problem}`;
  if (v.firstSeq === null) return "No events to check.";
  return `${v.checked} events intact (#${v.firstSeq}–#${v.lastSeq})${v.checkpointSeq !== null ? `, from the signed checkpoint at #${v.checkpointSeq}` : ""}.`;
}

export function AuditVerification({ compact = false }: { compact?: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const last = useQuery(trpc.events.lastVerification.queryOptions());
  const verify = useMutation(
    trpc.events.verify.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.events.lastVerification.queryKey() }),
    }),
  );
  const v = last.data?.verification ?? null;
  return (
    <Panel className={compact ? "p-4" : "p-5 sm:p-6"}>
      <section aria-labelledby="audit-verification-title" className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
        <div className="min-w-0">
          <h2 id="audit-verification-title" className="flex flex-wrap items-center gap-2 text-sm font-semibold text-zinc-900">
            Audit trail verification
            {v && (v.ok ? <Badge className="bg-emerald-50 text-emerald-800 ring-emerald-300">Intact</Badge> : <Badge className="bg-red-50 text-red-800 ring-red-300">Broken</Badge>)}
          </h2>
          {last.isPending ? (
            <Spinner label="Loading…" />
          ) : v ? (
            <p className="mt-1 text-sm text-zinc-600">
              Last verified <time dateTime={v.at}>{formatExact(v.at)}</time>
              {v.by ? ` by ${v.by}` : ""}: {describe(v)}
            </p>
          ) : (
            <p className="mt-1 text-sm text-zinc-600">Not verified yet. Verification walks the hash chain and names the first edited, deleted, inserted or reordered event.</p>
          )}
          {verify.isError && <Alert title="Could not verify">{errorMessage(verify.error)}</Alert>}
        </div>
        <Button variant="secondary" onClick={() => verify.mutate()} disabled={verify.isPending} className="shrink-0">
          {verify.isPending ? "Verifying…" : "Verify now"}
        </Button>
      </section>
    </Panel>
  );
}

export function AuditRetention() {
  const trpc = useTRPC();
  const user = useConsoleUser();
  const mayEdit = can(user.role, "settings.write");
  const queryClient = useQueryClient();
  const current = useQuery(trpc.events.retention.queryOptions());
  const [keepAll, setKeepAll] = useState(true);
  const [days, setDays] = useState("365");
  useEffect(() => {
    if (!current.data) return;
    setKeepAll(current.data.days === null);
    if (current.data.days !== null) setDays(String(current.data.days));
  }, [current.data]);
  const save = useMutation(
    trpc.events.setRetention.mutationOptions({
      onSuccess: (data) => queryClient.setQueryData(trpc.events.retention.queryKey(), data),
    }),
  );
  const n = Number(days);
  const bad = !keepAll && (!Number.isInteger(n) || n < 1 || n > 36500);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!bad) save.mutate({ days: keepAll ? null : n });
  };
  return (
    <Panel className="p-5 sm:p-6">
      <form onSubmit={onSubmit} aria-labelledby="audit-retention-title" className="space-y-4">
        <div>
          <h2 id="audit-retention-title" className="text-base font-semibold text-zinc-900">
            Audit retention
          </h2>
          <p className="mt-1 text-sm text-zinc-600">
            Events older than this are first exported to a file in the server&apos;s data directory (audit-archive), then pruned. A checkpoint signed with the server&apos;s key keeps the
            rest of the chain verifiable.
          </p>
        </div>
        {current.isPending ? (
          <Spinner label="Loading…" />
        ) : (
          <fieldset disabled={!mayEdit || save.isPending} className="space-y-3">
            <legend className="sr-only">Keep events</legend>
            <label className="flex min-h-11 items-center gap-3 text-sm text-zinc-800">
              <input type="radio" name="retention" checked={keepAll} onChange={() => setKeepAll(true)} className="size-4" />
              Keep every event
            </label>
            <label className="flex min-h-11 items-center gap-3 text-sm text-zinc-800">
              <input type="radio" name="retention" checked={!keepAll} onChange={() => setKeepAll(false)} className="size-4" />
              Keep events for a number of days
            </label>
            {!keepAll && (
              <Field id="audit-retention-days" label="Days to keep" errors={bad ? ["Enter a whole number of days from 1 to 36500."] : undefined}>
                {(p) => <input {...p} inputMode="numeric" className={`${inputClass} max-w-40`} value={days} onChange={(e) => setDays(e.target.value)} />}
              </Field>
            )}
            {mayEdit && (
              <Button type="submit" disabled={bad || save.isPending}>
                {save.isPending ? "Saving…" : "Save retention"}
              </Button>
            )}
            {save.isSuccess && <p className="text-sm text-emerald-700">Saved.</p>}
            {save.isError && <Alert title="Could not save">{errorMessage(save.error)}</Alert>}
          </fieldset>
        )}
      </form>
    </Panel>
  );
}

/** Both, as one section of the Settings page. */
export function AuditSettings() {
  return (
    <section aria-label="Audit" className="space-y-4">
      <AuditVerification />
      <AuditRetention />
    </section>
  );
}
