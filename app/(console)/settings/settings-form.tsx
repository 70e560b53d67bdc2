"use client";
// Settings → requests rules, Autonomous Approval and Two-person approval: one form, checked with the core
// settings schema before it is sent, each problem beside its field.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { can } from "../../../core/roles";
import { SettingsSchema, type Settings } from "../../../core/settings";
import { issuesFromZod } from "../../../core/parse-result";
import { useConsoleUser } from "../../_components/console-shell";
import { Alert, Button, cx, Field, FieldErrors, inputClass, PlusIcon, Radio, Section, Spinner } from "../../_components/ui";
import type { SettingsDoc } from "../../../core/sync";
import { useLocalDocs, useOutbox, useSync } from "../../_lib/db/sync-provider";
import { errorIssues, errorMessage } from "../../_lib/errors";
import { UNIT_LABELS, type DurationUnit, type RuleRow } from "../../_lib/policy-form";
import { useTRPC } from "../../_lib/trpc";
import { RuleEditor } from "../policies/new/new-policy-form";
import {
  formToSettings,
  groupSettingsIssues,
  newAutoRule,
  settingsToForm,
  type AutoRuleForm,
  type DurationValue,
  type SettingsFormState,
} from "./settings-state";

export function SettingsForm() {
  const trpc = useTRPC();
  const sync = useSync();
  const settings = useQuery(trpc.settings.get.queryOptions());
  // Offline, the settings come from the local store (as last synced); online, fresh from the server.
  const local = useLocalDocs<SettingsDoc>("settings");
  if ((!sync.online || settings.fetchStatus === "paused" || settings.isError) && local?.[0]) {
    const { id: _id, updatedAt: _at, _deleted, ...stored } = local[0];
    return <LoadedSettingsForm settings={stored} />;
  }
  if (settings.isPending) return <Spinner label="Loading settings…" />;
  if (settings.isError) return <Alert title="Could not load the settings">{errorMessage(settings.error)}</Alert>;
  return <LoadedSettingsForm settings={settings.data} />;
}

function LoadedSettingsForm({ settings }: { settings: Settings }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useConsoleUser();
  const mayWrite = can(user.role, "settings.write");
  const keyCounter = useRef(1);
  const nextKey = () => keyCounter.current++;
  const [base, setBase] = useState(settings);
  const [form, setForm] = useState<SettingsFormState>(() => settingsToForm(settings, nextKey));
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [saved, setSaved] = useState(false);
  // With the local store open, Save writes an outbox entry: pushed at once online, kept until the network returns offline.
  const outbox = useOutbox();
  const { dismiss } = useSync();
  const [queued, setQueued] = useState<{ busy: boolean; error: string | null; waiting: boolean }>({ busy: false, error: null, waiting: false });

  const save = useMutation(
    trpc.settings.update.mutationOptions({
      onSuccess: (next) => {
        queryClient.setQueryData(trpc.settings.get.queryKey(), next);
        setBase(next);
        setSaved(true);
      },
      onError: (error) => {
        const issues = errorIssues(error);
        if (issues.length > 0) showErrors(groupSettingsIssues(issues, form));
      },
    }),
  );

  useEffect(() => {
    if (!saved) return;
    const id = setTimeout(() => setSaved(false), 5_000);
    return () => clearTimeout(id);
  }, [saved]);

  function showErrors(next: Record<string, string[]>) {
    setErrors(next);
    const first = Object.keys(next).find((f) => f !== "form" && document.getElementById(f));
    if (first) requestAnimationFrame(() => document.getElementById(first)?.focus());
  }

  function update(patch: Partial<SettingsFormState>) {
    setSaved(false);
    setForm((f) => ({ ...f, ...patch }));
  }
  function updateRule(key: number, patch: Partial<AutoRuleForm>) {
    setSaved(false);
    setForm((f) => ({ ...f, rules: f.rules.map((r) => (r.key === key ? { ...r, ...patch } : r)) }));
  }
  function addAutoRule() {
    const rule = newAutoRule(nextKey(), nextKey());
    update({ rules: [...form.rules, rule] });
    requestAnimationFrame(() => document.getElementById(`auto-${rule.key}-name`)?.focus());
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    save.reset();
    setSaved(false);
    const parsed = SettingsSchema.safeParse(formToSettings(form, base));
    if (!parsed.success) {
      showErrors(groupSettingsIssues(issuesFromZod(parsed.error), form));
      return;
    }
    setErrors({});
    if (outbox.ready) {
      const next = parsed.data;
      setQueued({ busy: true, error: null, waiting: false });
      outbox
        .write("settings.update", next)
        .then((o) => {
          if (o.status === "accepted") {
            void queryClient.invalidateQueries({ queryKey: trpc.settings.get.queryKey() });
            setBase(next);
            setSaved(true);
            setQueued({ busy: false, error: null, waiting: false });
          } else if (o.status === "waiting") {
            setBase(next);
            setQueued({ busy: false, error: null, waiting: true });
          } else {
            dismiss(o.entry.id);
            setQueued({ busy: false, error: o.message ?? "The server refused the change.", waiting: false });
          }
        })
        .catch((e: unknown) => setQueued({ busy: false, error: errorMessage(e), waiting: false }));
      return;
    }
    save.mutate(parsed.data);
  }

  const errorCount = Object.values(errors).reduce((n, list) => n + list.length, 0);

  return (
    <form onSubmit={submit} noValidate className="space-y-6">
      {!mayWrite && <Alert tone="info" title="Read only">An owner or admin changes these settings; your role may read them.</Alert>}
      <div aria-live="polite" className="space-y-3 empty:hidden">
        {errorCount > 0 && (
          <Alert title={errorCount === 1 ? "Fix the problem below, then save again." : `Fix the ${errorCount} problems below, then save again.`}>
            {errors.form && (
              <ul className="list-disc pl-5">
                {errors.form.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            )}
          </Alert>
        )}
        {save.isError && errorIssues(save.error).length === 0 && <Alert title="The settings were not saved">{errorMessage(save.error)}</Alert>}
        {saved && <Alert tone="success" title="Settings saved.">They apply to new requests from now on.</Alert>}
        {queued.error && <Alert title="The settings were not saved">{queued.error}</Alert>}
        {queued.waiting && (
          <Alert tone="info" title="Saved on this device: waiting to sync.">
            They are sent to the server when the network returns, and checked again there.
          </Alert>
        )}
      </div>

      <fieldset disabled={!mayWrite} className="min-w-0 space-y-6">
        <Section title="Requests" description="What users may ask for from their computers (jit-agent request), and how long a request waits.">
          <Checkbox
            id="requests-enabled"
            label="Users may request elevation"
            description="When off, the agent tells users that requests are not taken."
            checked={form.requestsEnabled}
            onChange={(v) => update({ requestsEnabled: v })}
          />
          <DurationInput
            id="requests-maxDuration"
            label="Maximum duration"
            hint="The longest access a user may ask for; an approval may shorten it, never lengthen it."
            value={form.maxDuration}
            onChange={(v) => update({ maxDuration: v })}
            errors={errors["requests-maxDuration"]}
          />
          <Field
            id="requests-minJustification"
            label="Minimum justification length"
            hint="Characters a justification needs at least (0: none)."
            errors={errors["requests-minJustification"]}
            className="max-w-xs"
          >
            {(p) => (
              <input
                {...p}
                type="number"
                inputMode="numeric"
                min={0}
                max={1000}
                value={form.minJustification}
                onChange={(e) => update({ minJustification: e.target.value })}
                className={inputClass}
              />
            )}
          </Field>
          <DurationInput
            id="requests-lapseAfter"
            label="Lapse after"
            hint="A request nobody answers in this time lapses; the user may ask again."
            value={form.lapseAfter}
            onChange={(v) => update({ lapseAfter: v })}
            errors={errors["requests-lapseAfter"]}
          />
        </Section>

        <Section
          title="Autonomous Approval"
          description="Approve requests at once, with no admin action, when they match a rule: trusted users, low-risk applications, chosen computers, up to a maximum duration. Each is recorded as approved by its rule."
        >
          <Checkbox
            id="auto-enabled"
            label="Autonomous Approval"
            description={form.autoEnabled ? "On: a request that matches an enabled rule below is approved at once." : "Off: every request waits for a person."}
            checked={form.autoEnabled}
            onChange={(v) => update({ autoEnabled: v })}
          />
          {form.rules.length > 0 && (
            <ol className="space-y-4">
              {form.rules.map((rule, index) => (
                <AutoRuleEditor
                  key={rule.key}
                  rule={rule}
                  index={index}
                  errors={errors}
                  nextKey={nextKey}
                  onChange={(patch) => updateRule(rule.key, patch)}
                  onRemove={() => update({ rules: form.rules.filter((r) => r.key !== rule.key) })}
                />
              ))}
            </ol>
          )}
          <Button variant="secondary" onClick={addAutoRule}>
            <PlusIcon /> Add Autonomous Approval rule
          </Button>
        </Section>

        <Section
          title="Two-person approval"
          description="Requests for high-risk applications, or for longer than a set time, need approvals from several different people. The user who asked never counts; one decline ends the request."
        >
          <Checkbox
            id="two-enabled"
            label="Two-person approval"
            description={form.twoEnabled ? "On: matching requests need the approvals below." : "Off: one approval is enough."}
            checked={form.twoEnabled}
            onChange={(v) => update({ twoEnabled: v })}
          />
          <Field id="two-approvalsRequired" label="Approvals required" hint="Different people, 2 to 10." errors={errors["two-approvalsRequired"]} className="max-w-xs">
            {(p) => (
              <input
                {...p}
                type="number"
                inputMode="numeric"
                min={2}
                max={10}
                value={form.approvalsRequired}
                onChange={(e) => update({ approvalsRequired: e.target.value })}
                className={inputClass}
              />
            )}
          </Field>
          <AppRuleList
            id="two-highRisk"
            legend="High-risk applications"
            hint="A request for an application that matches any of these needs the approvals above."
            addLabel="Add high-risk application rule"
            rows={form.highRisk}
            errors={errors}
            nextKey={nextKey}
            onChange={(rows) => update({ highRisk: rows })}
          />
          <div className="space-y-3">
            <Checkbox
              id="two-longerThanOn"
              label="Also for requests longer than a set time"
              checked={form.longerThanOn}
              onChange={(v) => update({ longerThanOn: v })}
            />
            {form.longerThanOn && (
              <DurationInput
                id="two-longerThan"
                label="Longer than"
                hint="A request for longer than this needs the approvals above."
                value={form.longerThan}
                onChange={(v) => update({ longerThan: v })}
                errors={errors["two-longerThan"]}
              />
            )}
          </div>
        </Section>
      </fieldset>

      {mayWrite && (
        <div className="sticky bottom-0 -mx-4 flex flex-col-reverse gap-3 border-t border-zinc-200 bg-white/95 px-4 py-3 backdrop-blur sm:static sm:mx-0 sm:flex-row sm:justify-end sm:bg-transparent sm:px-0 sm:pt-6">
          <Button type="submit" disabled={save.isPending || queued.busy} aria-busy={save.isPending || queued.busy || undefined}>
            Save settings
          </Button>
        </div>
      )}
    </form>
  );
}

function AutoRuleEditor({
  rule,
  index,
  errors,
  nextKey,
  onChange,
  onRemove,
}: {
  rule: AutoRuleForm;
  index: number;
  errors: Record<string, string[]>;
  nextKey: () => number;
  onChange: (patch: Partial<AutoRuleForm>) => void;
  onRemove: () => void;
}) {
  const id = `auto-${rule.key}`;
  const title = `Autonomous Approval rule ${index + 1}`;
  return (
    <li className="rounded-lg border border-zinc-200 bg-zinc-50/60 p-4">
      <fieldset className="min-w-0 space-y-4">
        <legend className="sr-only">{rule.name ? `${title}: ${rule.name}` : title}</legend>
        <div className="flex items-center justify-between gap-2">
          <span aria-hidden="true" className="text-sm font-medium text-zinc-700">
            Rule {index + 1}
            {rule.name ? `: ${rule.name}` : ""}
          </span>
          <Button variant="ghost" onClick={onRemove} aria-label={`Remove ${title}`} className="-my-2 -mr-2 text-red-700 hover:bg-red-50">
            Remove
          </Button>
        </div>
        <Field id={`${id}-name`} label="Rule name" errors={errors[`${id}-name`]}>
          {(p) => <input {...p} autoComplete="off" maxLength={120} value={rule.name} onChange={(e) => onChange({ name: e.target.value })} className={inputClass} />}
        </Field>
        <Checkbox id={`${id}-enabled`} label="Rule enabled" checked={rule.enabled} onChange={(v) => onChange({ enabled: v })} />

        <NamesOrAll
          id={`${id}-users`}
          allId={`${id}-allUsers`}
          label="Trusted users"
          allLabel="All users"
          hint={rule.allUsers ? "Every user on the chosen computers." : "Account names on the computers, separated by commas or one per line."}
          names={rule.users}
          all={rule.allUsers}
          errors={errors}
          onNames={(users) => onChange({ users })}
          onAll={(allUsers) => onChange({ allUsers })}
        />

        <fieldset className="space-y-3" aria-describedby={errors[`${id}-apps`] ? `${id}-apps-error` : undefined}>
          <legend className="text-sm font-medium text-zinc-800">Applications</legend>
          <div className="flex flex-col gap-3 sm:flex-row sm:flex-wrap">
            <Radio
              name={`${id}-scope`}
              id={`${id}-apps`}
              label="Low-risk applications"
              description="Only applications matched by the rules below."
              checked={!rule.anyApp}
              onChange={() => onChange({ anyApp: false, apps: rule.apps.length ? rule.apps : [{ key: nextKey(), type: "vendor", value: "", versions: "" }] })}
            />
            <Radio name={`${id}-scope`} id={`${id}-anyApp`} label="Any application" checked={rule.anyApp} onChange={() => onChange({ anyApp: true })} />
          </div>
          <FieldErrors id={`${id}-apps-error`} errors={errors[`${id}-apps`]} />
          {!rule.anyApp && (
            <AppRuleList
              id={`${id}-appRules`}
              legend="Low-risk application rules"
              legendHidden
              addLabel="Add application rule"
              rows={rule.apps}
              errors={errors}
              nextKey={nextKey}
              onChange={(apps) => onChange({ apps })}
            />
          )}
        </fieldset>

        <NamesOrAll
          id={`${id}-computers`}
          allId={`${id}-allComputers`}
          label="Computers"
          allLabel="All computers"
          hint={rule.allComputers ? "Every enrolled computer." : "Computer names (or patterns such as build-*), separated by commas or one per line."}
          names={rule.computers}
          all={rule.allComputers}
          errors={errors}
          onNames={(computers) => onChange({ computers })}
          onAll={(allComputers) => onChange({ allComputers })}
        />

        <DurationInput
          id={`${id}-maxDuration`}
          label="Maximum duration"
          hint="A request for longer than this waits for a person."
          value={rule.maxDuration}
          onChange={(v) => onChange({ maxDuration: v })}
          errors={errors[`${id}-maxDuration`]}
        />
      </fieldset>
    </li>
  );
}

/** A list of app rule rows (the policy form's rule row), with Add and Remove. */
/** A list of names typed one per line (or comma-separated), or "All …" ticked instead (the list is then off). */
function NamesOrAll(props: {
  id: string;
  allId: string;
  label: string;
  allLabel: string;
  hint: string;
  names: string;
  all: boolean;
  errors: Record<string, string[]>;
  onNames: (names: string) => void;
  onAll: (all: boolean) => void;
}) {
  const { id, allId, errors } = props;
  return (
    <div className="space-y-2">
      <Field id={id} label={props.label} hint={props.hint} errors={errors[id]}>
        {(p) => (
          <textarea
            {...p}
            rows={2}
            autoCapitalize="off"
            spellCheck={false}
            disabled={props.all}
            value={props.all ? "" : props.names}
            onChange={(e) => props.onNames(e.target.value)}
            className={inputClass}
          />
        )}
      </Field>
      <Checkbox id={allId} label={props.allLabel} checked={props.all} onChange={props.onAll} errors={errors[allId]} />
    </div>
  );
}

function AppRuleList({
  id,
  legend,
  legendHidden,
  hint,
  addLabel,
  rows,
  errors,
  nextKey,
  onChange,
}: {
  id: string;
  legend: string;
  legendHidden?: boolean;
  hint?: string;
  addLabel: string;
  rows: RuleRow[];
  errors: Record<string, string[]>;
  nextKey: () => number;
  onChange: (rows: RuleRow[]) => void;
}) {
  function add() {
    const key = nextKey();
    onChange([...rows, { key, type: "vendor", value: "", versions: "" }]);
    requestAnimationFrame(() => document.getElementById(`rule-${key}-type`)?.focus());
  }
  return (
    <fieldset id={id} tabIndex={-1} className="min-w-0 space-y-3" aria-describedby={cx(hint && `${id}-hint`, errors[id] && `${id}-error`) || undefined}>
      <legend className={legendHidden ? "sr-only" : "text-sm font-medium text-zinc-800"}>{legend}</legend>
      {hint && (
        <p id={`${id}-hint`} className="text-sm text-zinc-500">
          {hint}
        </p>
      )}
      <FieldErrors id={`${id}-error`} errors={errors[id]} />
      {rows.length > 0 && (
        <ol className="space-y-3">
          {rows.map((row, index) => (
            <RuleEditor
              key={row.key}
              rule={row}
              index={index}
              errors={errors}
              onChange={(patch) => onChange(rows.map((r) => (r.key === row.key ? { ...r, ...patch } : r)))}
              onRemove={() => onChange(rows.filter((r) => r.key !== row.key))}
            />
          ))}
        </ol>
      )}
      <Button variant="secondary" onClick={add}>
        <PlusIcon /> {addLabel}
      </Button>
    </fieldset>
  );
}

function DurationInput({
  id,
  label,
  hint,
  value,
  onChange,
  errors,
}: {
  id: string;
  label: string;
  hint?: string;
  value: DurationValue;
  onChange: (v: DurationValue) => void;
  errors?: string[];
}) {
  return (
    <div className="space-y-1.5">
      <div className="grid max-w-md grid-cols-[minmax(0,1fr)_minmax(0,1fr)] gap-3">
        <div className="space-y-1.5">
          <label htmlFor={id} className="block text-sm font-medium text-zinc-800">
            {label}
          </label>
          <input
            id={id}
            type="number"
            inputMode="numeric"
            min={1}
            max={999999}
            step={1}
            value={value.amount}
            onChange={(e) => onChange({ ...value, amount: e.target.value })}
            aria-describedby={cx(hint && `${id}-hint`, errors && `${id}-error`) || undefined}
            aria-invalid={errors ? true : undefined}
            className={inputClass}
          />
        </div>
        <div className="space-y-1.5">
          <label htmlFor={`${id}-unit`} className="block text-sm font-medium text-zinc-800">
            <span className="sr-only">{label} </span>
            <span aria-hidden="true">Unit</span>
            <span className="sr-only">unit</span>
          </label>
          <select id={`${id}-unit`} value={value.unit} onChange={(e) => onChange({ ...value, unit: e.target.value as DurationUnit })} className={inputClass}>
            {(Object.keys(UNIT_LABELS) as DurationUnit[]).map((u) => (
              <option key={u} value={u}>
                {UNIT_LABELS[u]}
              </option>
            ))}
          </select>
        </div>
      </div>
      {hint && (
        <p id={`${id}-hint`} className="text-sm text-zinc-500">
          {hint}
        </p>
      )}
      <FieldErrors id={`${id}-error`} errors={errors} />
    </div>
  );
}

function Checkbox({
  id,
  label,
  description,
  checked,
  onChange,
  errors,
}: {
  id: string;
  label: string;
  description?: string;
  checked: boolean;
  onChange: (v: boolean) => void;
  errors?: string[];
}) {
  return (
    <div>
      <label htmlFor={id} className="flex min-h-11 cursor-pointer items-start gap-3 py-1">
        <input
          id={id}
          type="checkbox"
          checked={checked}
          onChange={(e) => onChange(e.target.checked)}
          aria-describedby={cx(description && `${id}-hint`, errors && `${id}-error`) || undefined}
          aria-invalid={errors ? true : undefined}
          className="mt-0.5 size-5 shrink-0 accent-indigo-600"
        />
        <span className="text-sm font-medium text-zinc-900">{label}</span>
      </label>
      {description && (
        <p id={`${id}-hint`} className="-mt-1 pl-8 text-sm text-zinc-500">
          {description}
        </p>
      )}
      <FieldErrors id={`${id}-error`} errors={errors} />
    </div>
  );
}
