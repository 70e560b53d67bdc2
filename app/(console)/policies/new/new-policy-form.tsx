"use client";
// Create → Application Elevation: the seed product's steps and words, checked with the policy file's own parser.
// The same form edits a policy (policies/[id]/edit): a changed deployed policy becomes a new revision, redeployed.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { APP_RULE_LABELS, APP_RULE_TYPES, type AppRuleType } from "../../../../core/app-rule";
import { parsePolicyFile } from "../../../../core/policy";
import { can } from "../../../../core/roles";
import { useConsoleUser } from "../../../_components/console-shell";
import { Alert, Button, cx, Field, FieldErrors, inputClass, LinkButton, PageHeader, PlusIcon, Radio, Section } from "../../../_components/ui";
import { useOutbox } from "../../../_lib/db/sync-provider";
import { errorCode, errorIssues, errorMessage } from "../../../_lib/errors";
import { browserTimeZone } from "../../../_lib/format";
import {
  dateToLocalInput,
  groupIssues,
  initialPolicyForm,
  toPolicyFile,
  UNIT_LABELS,
  type DurationUnit,
  type PolicyFormState,
  type RuleRow,
} from "../../../_lib/policy-form";
import { useTRPC } from "../../../_lib/trpc";

const RULE_HINTS: Record<AppRuleType, { hint: string; placeholder: string }> = {
  vendor: { hint: "The publisher or signer. On Linux: the package's Origin or Vendor, else its maintainer's organisation (e.g. Debian).", placeholder: "Debian" },
  product: { hint: "The product name; on Linux the Debian package that owns the file.", placeholder: "dpkg" },
  verifiedExecutable: { hint: "A full path or a bare executable name; matches only when the file's signature or package checksum verifies.", placeholder: "/usr/bin/apt" },
  fileHash: { hint: "The SHA-256 digest of the file, 64 hex characters.", placeholder: "e3b0c44298fc1c149afbf4c8996fb924…" },
  clsid: { hint: "A COM class id, for elevating COM objects on Windows.", placeholder: "{00000000-0000-0000-0000-000000000000}" },
  folderPath: { hint: "Every executable under this absolute folder.", placeholder: "C:\\Program Files\\Tools" },
};

/** The order fields appear in, to focus the first one with a problem. */
function fieldOrder(form: PolicyFormState): string[] {
  return [
    "name",
    "description",
    "computers",
    "users",
    "allUsers",
    "fixedAmount",
    "windowStart",
    "windowEnd",
    "applications",
    ...form.rules.flatMap((r) => [`rule-${r.key}-value`, `rule-${r.key}-versions`]),
    "deploy",
  ];
}

/** Editing: the policy's id and its current content as form state. */
export type PolicyFormEditing = { id: string; name: string; deployed: boolean; initial: PolicyFormState };

export function NewPolicyForm({ editing }: { editing?: PolicyFormEditing } = {}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const user = useConsoleUser();
  const [form, setForm] = useState<PolicyFormState>(() => editing?.initial ?? initialPolicyForm());
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [timeZone, setTimeZone] = useState("");
  const nextKey = useRef(1 + Math.max(0, ...(editing?.initial.rules.map((r) => r.key) ?? [])));

  useEffect(() => setTimeZone(browserTimeZone()), []);

  const onError = (error: unknown) => {
    const issues = errorIssues(error);
    if (issues.length > 0) showErrors(groupIssues(issues, form));
    else if (errorCode(error) === "CONFLICT") showErrors({ name: [errorMessage(error)] });
  };
  const createMutation = useMutation(
    trpc.policies.create.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.policies.list.queryKey() });
        router.push("/policies");
      },
      onError,
    }),
  );
  const updateMutation = useMutation(
    trpc.policies.update.mutationOptions({
      onSuccess: async (r) => {
        await queryClient.invalidateQueries();
        router.push(`/policies/${r.policy.id}`);
      },
      onError,
    }),
  );
  const create = editing ? updateMutation : createMutation;
  const outbox = useOutbox();
  const verb = editing ? "save" : "create";

  function showErrors(next: Record<string, string[]>) {
    setErrors(next);
    const first = fieldOrder(form).find((f) => next[f]);
    if (first) requestAnimationFrame(() => document.getElementById(first)?.focus());
  }

  function update<K extends keyof PolicyFormState>(key: K, value: PolicyFormState[K]) {
    setForm((f) => ({ ...f, [key]: value }));
  }

  function updateRule(key: number, patch: Partial<RuleRow>) {
    setForm((f) => ({ ...f, rules: f.rules.map((r) => (r.key === key ? { ...r, ...patch } : r)) }));
  }

  function addRule() {
    const key = nextKey.current++;
    setForm((f) => ({ ...f, rules: [...f.rules, { key, type: "vendor", value: "", versions: "" }] }));
    requestAnimationFrame(() => document.getElementById(`rule-${key}-type`)?.focus());
  }

  function removeRule(key: number) {
    setForm((f) => ({ ...f, rules: f.rules.filter((r) => r.key !== key) }));
  }

  function chooseScope(scope: PolicyFormState["scope"]) {
    if (scope === "specific" && form.rules.length === 0) {
      const key = nextKey.current++;
      setForm((f) => ({ ...f, scope, rules: [{ key, type: "vendor", value: "", versions: "" }] }));
    } else update("scope", scope);
  }

  function chooseDurationType(type: PolicyFormState["durationType"]) {
    if (type === "window" && !form.windowStart && !form.windowEnd) {
      // Start at the next full hour, for two hours: a sensible window to edit from.
      const start = new Date();
      start.setMinutes(0, 0, 0);
      start.setHours(start.getHours() + 1);
      const end = new Date(start.getTime() + 2 * 3_600_000);
      setForm((f) => ({ ...f, durationType: type, windowStart: dateToLocalInput(start), windowEnd: dateToLocalInput(end) }));
    } else update("durationType", type);
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    create.reset();
    const file = toPolicyFile(form);
    const parsed = parsePolicyFile(file);
    if (parsed.issues) {
      showErrors(groupIssues(parsed.issues, form));
      return;
    }
    setErrors({});
    // Offline, the policy waits in the outbox ("Waiting to sync" under Policies) and the server checks it on sync.
    if (!navigator.onLine && outbox.ready) {
      const written = editing
        ? outbox.write("policy.update", { id: editing.id, policy: file as unknown as Record<string, unknown> }, 0)
        : outbox.write("policy.create", file as unknown as Record<string, unknown>, 0);
      void written.then(() => router.push("/policies")).catch((err: unknown) => showErrors({ form: [errorMessage(err)] }));
      return;
    }
    if (editing) updateMutation.mutate({ id: editing.id, policy: file });
    else createMutation.mutate(file);
  }

  if (!can(user.role, "policies.write")) {
    return (
      <>
        <PageHeader title="Create → Application Elevation" />
        <Alert title="Your role may not create policies">An owner or admin creates policies. You can read them under Policies.</Alert>
      </>
    );
  }

  const errorCount = Object.values(errors).reduce((n, list) => n + list.length, 0);
  const otherErrors = errors.form;

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-zinc-500">
        <Link href="/policies" className="inline-flex min-h-11 items-center hover:text-zinc-800 hover:underline">
          Policies
        </Link>
        <span aria-hidden="true"> / </span>
        {editing && (
          <>
            <Link href={`/policies/${editing.id}`} className="hover:text-zinc-800 hover:underline">
              {editing.name}
            </Link>
            <span aria-hidden="true"> / </span>
          </>
        )}
        <span>{editing ? "Edit" : "Create"}</span>
      </nav>
      <PageHeader
        title={editing ? `Edit → ${editing.name}` : "Create → Application Elevation"}
        description={
          editing
            ? editing.deployed
              ? "This policy is deployed: saving a change makes a new revision and redeploys it. The old revision stays readable under Versions."
              : "Saving a change makes a new revision; the old one stays readable under Versions."
            : "Give users on chosen computers the right to self-elevate applications, for a Fixed time or within a Window."
        }
      />

      <form onSubmit={submit} noValidate className="space-y-6">
        <div aria-live="polite" className="space-y-3 empty:hidden">
          {errorCount > 0 && (
            <Alert title={errorCount === 1 ? `Fix the problem below, then ${verb} the policy again.` : `Fix the ${errorCount} problems below, then ${verb} the policy again.`}>
              {otherErrors && (
                <ul className="list-disc pl-5">
                  {otherErrors.map((m) => (
                    <li key={m}>{m}</li>
                  ))}
                </ul>
              )}
            </Alert>
          )}
          {create.isError && errorIssues(create.error).length === 0 && errorCode(create.error) !== "CONFLICT" && (
            <Alert title={editing ? "The policy was not saved" : "The policy was not created"}>{errorMessage(create.error)}</Alert>
          )}
        </div>

        <Section title="Policy" description="A name admins will recognise, and what the policy is for.">
          <Field id="name" label="Name" errors={errors.name}>
            {(p) => <input {...p} name="name" autoComplete="off" maxLength={120} value={form.name} onChange={(e) => update("name", e.target.value)} className={inputClass} />}
          </Field>
          <Field id="description" label="Description" optional errors={errors.description}>
            {(p) => <textarea {...p} name="description" rows={2} value={form.description} onChange={(e) => update("description", e.target.value)} className={inputClass} />}
          </Field>
        </Section>

        <Section title="Computers and users" description="Where the policy applies, and to whom.">
          <Field id="computers" label="Computer Name" hint="One or more computer names, separated by commas or one per line, as they show under Computers. A pattern like build-* names every computer it fits." errors={errors.computers}>
            {(p) => (
              <textarea
                {...p}
                name="computers"
                rows={2}
                autoCapitalize="off"
                spellCheck={false}
                value={form.computers}
                onChange={(e) => update("computers", e.target.value)}
                className={inputClass}
              />
            )}
          </Field>
          <div className="space-y-3">
            <Field
              id="users"
              label="User Name"
              hint={form.allUsers ? "All users on these computers are covered." : "The account names on the computers, separated by commas or one per line."}
              errors={errors.users}
            >
              {(p) => (
                <textarea
                  {...p}
                  name="users"
                  rows={2}
                  autoCapitalize="off"
                  spellCheck={false}
                  disabled={form.allUsers}
                  value={form.allUsers ? "" : form.users}
                  onChange={(e) => update("users", e.target.value)}
                  className={inputClass}
                />
              )}
            </Field>
            <Checkbox id="allUsers" label="All users" checked={form.allUsers} onChange={(v) => update("allUsers", v)} errors={errors.allUsers} />
          </div>
        </Section>

        <Section title="Duration" description="Fixed counts from deployment; a Window has its own start and end.">
          <fieldset className="space-y-3">
            <legend className="text-sm font-medium text-zinc-800">Duration type</legend>
            <div className="flex flex-wrap gap-3">
              <Radio name="durationType" id="duration-fixed" label="Fixed" checked={form.durationType === "fixed"} onChange={() => chooseDurationType("fixed")} />
              <Radio name="durationType" id="duration-window" label="Window" checked={form.durationType === "window"} onChange={() => chooseDurationType("window")} />
            </div>
          </fieldset>

          {form.durationType === "fixed" ? (
            <div className="space-y-1.5">
              <div className="grid max-w-md grid-cols-[minmax(0,1fr)_minmax(0,1fr)] gap-3">
                <div className="space-y-1.5">
                  <label htmlFor="fixedAmount" className="block text-sm font-medium text-zinc-800">
                    Duration
                  </label>
                  <input
                    id="fixedAmount"
                    name="fixedAmount"
                    type="number"
                    inputMode="numeric"
                    min={1}
                    max={999999}
                    step={1}
                    value={form.fixedAmount}
                    onChange={(e) => update("fixedAmount", e.target.value)}
                    aria-describedby={cx("fixedAmount-hint", errors.fixedAmount && "fixedAmount-error")}
                    aria-invalid={errors.fixedAmount ? true : undefined}
                    className={inputClass}
                  />
                </div>
                <div className="space-y-1.5">
                  <label htmlFor="fixedUnit" className="block text-sm font-medium text-zinc-800">
                    Unit
                  </label>
                  <select id="fixedUnit" name="fixedUnit" value={form.fixedUnit} onChange={(e) => update("fixedUnit", e.target.value as DurationUnit)} className={inputClass}>
                    {(Object.keys(UNIT_LABELS) as DurationUnit[]).map((u) => (
                      <option key={u} value={u}>
                        {UNIT_LABELS[u]}
                      </option>
                    ))}
                  </select>
                </div>
              </div>
              <p id="fixedAmount-hint" className="text-sm text-zinc-500">
                How long users may self-elevate, counted from when the policy is deployed.
              </p>
              <FieldErrors id="fixedAmount-error" errors={errors.fixedAmount} />
            </div>
          ) : (
            <div className="space-y-2">
              <div className="grid gap-4 sm:grid-cols-2">
                <Field id="windowStart" label="Start" errors={errors.windowStart}>
                  {(p) => <input {...p} name="windowStart" type="datetime-local" step={1} value={form.windowStart} onChange={(e) => update("windowStart", e.target.value)} className={inputClass} />}
                </Field>
                <Field id="windowEnd" label="End" errors={errors.windowEnd}>
                  {(p) => <input {...p} name="windowEnd" type="datetime-local" step={1} value={form.windowEnd} onChange={(e) => update("windowEnd", e.target.value)} className={inputClass} />}
                </Field>
              </div>
              <p className="text-sm text-zinc-500">
                Times are in your browser&apos;s time zone{timeZone ? <> (<span className="font-medium text-zinc-700">{timeZone}</span>)</> : null}.
              </p>
            </div>
          )}
        </Section>

        <Section title="Access Settings" description="Which applications users may self-elevate while the policy is in force.">
          <fieldset className="space-y-3" aria-describedby={errors.applications ? "applications-error" : undefined}>
            <legend className="text-sm font-medium text-zinc-800">Just In Time Access for self-elevation</legend>
            <div className="flex flex-col gap-3 sm:flex-row sm:flex-wrap">
              <Radio
                name="scope"
                id="applications"
                label="All Allowed Application(s)"
                description="Any application on the allowlist."
                checked={form.scope === "allAllowed"}
                onChange={() => chooseScope("allAllowed")}
              />
              <Radio
                name="scope"
                id="scope-specific"
                label="Specific applications"
                description="Only the applications matched by the rules below."
                checked={form.scope === "specific"}
                onChange={() => chooseScope("specific")}
              />
            </div>
            <FieldErrors id="applications-error" errors={errors.applications} />
          </fieldset>

          {form.scope === "specific" && (
            <div className="space-y-3">
              <ol className="space-y-3">
                {form.rules.map((rule, index) => (
                  <RuleEditor key={rule.key} rule={rule} index={index} errors={errors} onChange={(patch) => updateRule(rule.key, patch)} onRemove={() => removeRule(rule.key)} />
                ))}
              </ol>
              <Button variant="secondary" onClick={addRule}>
                <PlusIcon /> Add rule
              </Button>
            </div>
          )}
        </Section>

        <Section title="Deployment">
          <Checkbox
            id="deploy"
            label="Deploy Immediately"
            description="Publish the policy to its computers' bundles now. Leave it unchecked to save a draft and deploy it later from Policies."
            checked={form.deploy}
            onChange={(v) => update("deploy", v)}
            errors={errors.deploy}
          />
        </Section>

        <div className="flex flex-col-reverse gap-3 border-t border-zinc-200 pt-6 sm:flex-row sm:justify-end">
          <LinkButton href={editing ? `/policies/${editing.id}` : "/policies"} variant="secondary">
            Cancel
          </LinkButton>
          <Button type="submit" disabled={create.isPending} aria-busy={create.isPending || undefined}>
            {editing ? "Save changes" : "Create policy"}
          </Button>
        </div>
      </form>
    </>
  );
}

function Checkbox({ id, label, description, checked, onChange, errors }: { id: string; label: string; description?: string; checked: boolean; onChange: (v: boolean) => void; errors?: string[] }) {
  return (
    <div>
      <div className="flex min-h-11 items-start gap-3 py-1">
        <input
          id={id}
          type="checkbox"
          checked={checked}
          onChange={(e) => onChange(e.target.checked)}
          aria-describedby={cx(description && `${id}-hint`, errors && `${id}-error`) || undefined}
          aria-invalid={errors ? true : undefined}
          className="mt-0.5 size-5 shrink-0 accent-indigo-600"
        />
        <div className="text-sm">
          <label htmlFor={id} className="font-medium text-zinc-900">
            {label}
          </label>
          {description && (
            <p id={`${id}-hint`} className="text-zinc-500">
              {description}
            </p>
          )}
        </div>
      </div>
      <FieldErrors id={`${id}-error`} errors={errors} />
    </div>
  );
}

/** One app rule row (type, value, version range); also used by Settings → Autonomous Approval and Two-person approval. */
export function RuleEditor({ rule, index, errors, onChange, onRemove }: { rule: RuleRow; index: number; errors: Record<string, string[]>; onChange: (patch: Partial<RuleRow>) => void; onRemove: () => void }) {
  const id = `rule-${rule.key}`;
  const { hint, placeholder } = RULE_HINTS[rule.type];
  return (
    <li className="rounded-lg border border-zinc-200 bg-zinc-50/60 p-4">
      <div className="mb-3 flex items-center justify-between gap-2">
        <span className="text-sm font-medium text-zinc-700">Rule {index + 1}</span>
        <Button variant="ghost" onClick={onRemove} aria-label={`Remove rule ${index + 1}`} className="-my-2 -mr-2 text-red-700 hover:bg-red-50">
          Remove
        </Button>
      </div>
      <div className="grid gap-4 sm:grid-cols-[12rem_minmax(0,1fr)]">
        <Field id={`${id}-type`} label="Rule type">
          {(p) => (
            <select {...p} value={rule.type} onChange={(e) => onChange({ type: e.target.value as AppRuleType })} className={inputClass}>
              {APP_RULE_TYPES.map((t) => (
                <option key={t} value={t}>
                  {APP_RULE_LABELS[t]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="space-y-4">
          <Field id={`${id}-value`} label="Value" hint={hint} errors={errors[`${id}-value`]}>
            {(p) => (
              <input
                {...p}
                autoCapitalize="off"
                autoComplete="off"
                spellCheck={false}
                placeholder={placeholder}
                value={rule.value}
                onChange={(e) => onChange({ value: e.target.value })}
                className={cx(inputClass, (rule.type === "fileHash" || rule.type === "clsid") && "font-mono")}
              />
            )}
          </Field>
          {rule.type === "product" && (
            <Field id={`${id}-versions`} label="Version range" optional hint="Debian version order, e.g. >=2.39, <3 or >=1.2 <2. Leave empty to match every version." errors={errors[`${id}-versions`]}>
              {(p) => <input {...p} autoComplete="off" spellCheck={false} value={rule.versions} onChange={(e) => onChange({ versions: e.target.value })} className={inputClass} />}
            </Field>
          )}
        </div>
      </div>
    </li>
  );
}
