"use client";
// The allowlist: named app rules that application control allows; what All Allowed Application(s) means in a policy.
// A change reaches every computer in its next bundle.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { AllowlistEntryInputSchema } from "../../../core/allowlist";
import { APP_RULE_LABELS, APP_RULE_TYPES, APP_RULE_VALUE_FIELD, describeAppRule, type AppRuleType } from "../../../core/app-rule";
import { can } from "../../../core/roles";
import { useConsoleUser } from "../../_components/console-shell";
import { Alert, Button, cx, EmptyState, Field, inputClass, PageHeader, Panel, PlusIcon, Spinner, stackTable } from "../../_components/ui";
import type { AllowlistDoc } from "../../../core/sync";
import { useLocalFirst, useServerOnly } from "../../_lib/db/sync-provider";
import { errorCode, errorIssues, errorMessage } from "../../_lib/errors";
import { useTRPC } from "../../_lib/trpc";

type FormState = { name: string; type: AppRuleType; value: string; versions: string; description: string };
const EMPTY: FormState = { name: "", type: "fileHash", value: "", versions: "", description: "" };

function toInput(f: FormState): unknown {
  const rule: Record<string, string> = { type: f.type, [APP_RULE_VALUE_FIELD[f.type]]: f.value };
  if (f.type === "product" && f.versions.trim() !== "") rule.versions = f.versions;
  return { name: f.name, description: f.description, rule };
}

/** Where a problem shows: "name", "value", "versions" or "form". */
function fieldOf(path: string): string {
  if (path === "name") return "name";
  if (path === "description") return "description";
  if (path.startsWith("rule.versions")) return "versions";
  if (path.startsWith("rule")) return "value";
  return "form";
}

export function AllowlistView() {
  const trpc = useTRPC();
  const user = useConsoleUser();
  const mayWrite = can(user.role, "policies.write");
  const queryClient = useQueryClient();
  // From the local store (live, and there offline); adding and removing entries needs the network.
  const list = useLocalFirst(
    "allowlist",
    useQuery({ ...trpc.allowlist.list.queryOptions(), enabled: useServerOnly() }),
    (docs: AllowlistDoc[]) => ({ entries: [...docs].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()) || a.id.localeCompare(b.id)) }),
  );
  const [form, setForm] = useState<FormState>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.allowlist.list.queryKey() });
  const add = useMutation(
    trpc.allowlist.add.mutationOptions({
      onSuccess: async () => {
        setForm(EMPTY);
        await invalidate();
      },
      onError: (e) => {
        const issues = errorIssues(e);
        if (issues.length) showIssues(issues);
        else if (errorCode(e) === "CONFLICT") setErrors({ name: [errorMessage(e)] });
      },
    }),
  );
  const remove = useMutation(trpc.allowlist.remove.mutationOptions({ onSuccess: invalidate }));

  function showIssues(issues: { path: string; message: string }[]) {
    const next: Record<string, string[]> = {};
    for (const i of issues) (next[fieldOf(i.path)] ??= []).push(i.message);
    setErrors(next);
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    add.reset();
    const input = toInput(form);
    const r = AllowlistEntryInputSchema.safeParse(input);
    if (!r.success) {
      showIssues(r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })));
      return;
    }
    setErrors({});
    add.mutate(r.data);
  }

  const entries = list.data?.entries ?? [];
  const t = stackTable;
  return (
    <>
      <PageHeader
        title="Allowlist"
        description="The applications that application control allows: what All Allowed Application(s) means in a policy. A change reaches every computer in its next bundle."
      />
      {mayWrite && (
        <Panel className="mb-6 p-5 sm:p-6">
          <h2 className="text-base font-semibold text-zinc-900">Add an application</h2>
          <form onSubmit={submit} noValidate className="mt-4 space-y-4">
            {errors.form && <Alert title="The entry was not added">{errors.form.join(" ")}</Alert>}
            {add.isError && errorIssues(add.error).length === 0 && errorCode(add.error) !== "CONFLICT" && <Alert title="The entry was not added">{errorMessage(add.error)}</Alert>}
            <div className="grid gap-4 sm:grid-cols-2">
              <Field id="allow-name" label="Name" errors={errors.name}>
                {(p) => <input {...p} autoComplete="off" maxLength={120} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} className={inputClass} />}
              </Field>
              <Field id="allow-type" label="Rule type">
                {(p) => (
                  <select {...p} value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value as AppRuleType })} className={inputClass}>
                    {APP_RULE_TYPES.map((ty) => (
                      <option key={ty} value={ty}>
                        {APP_RULE_LABELS[ty]}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field id="allow-value" label="Value" errors={errors.value}>
                {(p) => (
                  <input
                    {...p}
                    autoComplete="off"
                    autoCapitalize="off"
                    spellCheck={false}
                    value={form.value}
                    onChange={(e) => setForm({ ...form, value: e.target.value })}
                    className={cx(inputClass, (form.type === "fileHash" || form.type === "clsid") && "font-mono")}
                  />
                )}
              </Field>
              {form.type === "product" && (
                <Field id="allow-versions" label="Version range" optional hint="e.g. >=2.39, <3 or >=1.2 <2" errors={errors.versions}>
                  {(p) => <input {...p} autoComplete="off" spellCheck={false} value={form.versions} onChange={(e) => setForm({ ...form, versions: e.target.value })} className={inputClass} />}
                </Field>
              )}
              <Field id="allow-description" label="Description" optional errors={errors.description} className="sm:col-span-2">
                {(p) => <input {...p} autoComplete="off" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} className={inputClass} />}
              </Field>
            </div>
            <div className="flex justify-end">
              <Button type="submit" disabled={add.isPending} aria-busy={add.isPending || undefined}>
                <PlusIcon /> Add to allowlist
              </Button>
            </div>
          </form>
        </Panel>
      )}
      <div aria-live="polite" className="mb-4 empty:mb-0">
        {remove.isError && <Alert title="The entry was not removed">{errorMessage(remove.error)}</Alert>}
      </div>
      {list.isPending ? (
        <Spinner label="Loading the allowlist…" />
      ) : list.isError ? (
        <Alert title="Could not load the allowlist">{errorMessage(list.error)}</Alert>
      ) : entries.length === 0 ? (
        <EmptyState title="The allowlist is empty">
          <p>Policies with All Allowed Application(s) allow nothing until applications are added here (or with jit-ctl allowlist apply -f FILE).</p>
        </EmptyState>
      ) : (
        <Panel className="overflow-hidden">
          <div className="relative overflow-x-auto">
            <table className={t.table}>
              <caption className="sr-only">Allowlist</caption>
              <thead className={t.thead}>
                <tr className="border-b border-zinc-200">
                  <th scope="col" className="px-4 py-3 lg:px-3">Name</th>
                  <th scope="col" className="px-4 py-3 lg:px-3">Rule</th>
                  <th scope="col" className="px-4 py-3 lg:px-3">Description</th>
                  {mayWrite && (
                    <th scope="col" className="px-4 py-3 lg:px-3">
                      <span className="sr-only">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody className={t.tbody}>
                {entries.map((e) => (
                  <tr key={e.id} className={t.tr}>
                    <td data-label="Name" className={cx(t.cell, "font-medium text-zinc-900")}>
                      <span id={`allow-${e.id}`}>{e.name}</span>
                    </td>
                    <td data-label="Rule" className={cx(t.cell, "break-all font-mono text-xs text-zinc-700")}>{describeAppRule(e.rule)}</td>
                    <td data-label="Description" className={cx(t.cell, "text-zinc-700")}>{e.description}</td>
                    {mayWrite && (
                      <td className={cx(t.cell, "whitespace-nowrap sm:text-right max-sm:before:hidden")}>
                        <Button variant="danger" onClick={() => remove.mutate({ id: e.id })} disabled={remove.isPending} aria-describedby={`allow-${e.id}`}>
                          Remove
                        </Button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Panel>
      )}
    </>
  );
}
