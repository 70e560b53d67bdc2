"use client";
// Settings → Notifications → Webhooks (owners and admins): chat rooms and other systems told about requests,
// decisions, ended elevations, deployments and failed audit verification; each signed with its own secret (shown
// once), retried with back-off, with its delivery log. Needs the network (nothing here is kept offline).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  NOTIFICATION_KIND_LABELS,
  NOTIFICATION_KINDS,
  WEBHOOK_FORMAT_LABELS,
  WEBHOOK_FORMATS,
  type DeliveryStatus,
  type NotificationKind,
  type WebhookFormat,
  type WebhookView,
} from "../../../../core/notifications";
import { can } from "../../../../core/roles";
import { useConsoleUser } from "../../../_components/console-shell";
import { CopyButton } from "../../../_components/copy-button";
import { Alert, Badge, Button, Field, inputClass, Panel, Radio, Section, Spinner, stackTable } from "../../../_components/ui";
import { useSync } from "../../../_lib/db/sync-provider";
import { errorIssues, errorMessage } from "../../../_lib/errors";
import { formatExact } from "../../../_lib/format";
import { useTRPC } from "../../../_lib/trpc";

const FORMAT_HELP: Record<WebhookFormat, string> = {
  generic: "A JSON document with the event, the request and a link: for your own systems.",
  slack: "A Slack message (an incoming webhook URL from your Slack app).",
  teams: "A Microsoft Teams Adaptive Card (a Workflows or incoming webhook URL).",
};

const STATUS_STYLE: Record<DeliveryStatus, string> = {
  pending: "bg-amber-50 text-amber-800 ring-amber-300",
  delivered: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  failed: "bg-red-50 text-red-800 ring-red-300",
  dropped: "bg-zinc-100 text-zinc-600 ring-zinc-300",
};
const STATUS_LABEL: Record<DeliveryStatus, string> = { pending: "Waiting", delivered: "Delivered", failed: "Failed", dropped: "Dropped" };

type Draft = { name: string; url: string; format: WebhookFormat; events: NotificationKind[]; enabled: boolean };
const EMPTY: Draft = { name: "", url: "", format: "generic", events: ["request.submitted", "request.decided"], enabled: true };

export function WebhooksSection() {
  const user = useConsoleUser();
  if (!can(user.role, "settings.write")) return null;
  return <Webhooks />;
}

function Webhooks() {
  const trpc = useTRPC();
  const { online } = useSync();
  const list = useQuery({ ...trpc.notifications.webhooks.list.queryOptions(), enabled: online, refetchInterval: online ? 15_000 : false });
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);

  return (
    <Section
      title="Webhooks"
      description="Post each event to a chat room or another system. Every message is signed (X-JIT-Signature: HMAC-SHA256 of the body with the webhook's secret) and retried with back-off if the receiver is down."
    >
      {!online ? (
        <Alert tone="info" title="You are offline">
          Webhooks and their delivery log need the network. They appear when this device is back online.
        </Alert>
      ) : list.isPending ? (
        <Spinner />
      ) : list.isError ? (
        <Alert title="Could not load the webhooks">{errorMessage(list.error)}</Alert>
      ) : (
        <>
          {secret && (
            <Alert tone="success" title={`The secret of "${secret.name}"`}>
              <p>Copy it now into the receiver: it is not shown again (you can rotate it later).</p>
              <div className="mt-2 flex flex-wrap items-center gap-2">
                <code className="break-all rounded bg-white px-2 py-1 font-mono text-xs text-zinc-900 ring-1 ring-zinc-200">{secret.secret}</code>
                <CopyButton text={secret.secret} label="Copy secret" />
                <Button variant="ghost" onClick={() => setSecret(null)}>
                  Done
                </Button>
              </div>
            </Alert>
          )}
          {list.data.webhooks.length === 0 && !adding && <p className="text-sm text-zinc-600">No webhooks yet.</p>}
          <ul className="space-y-4">
            {list.data.webhooks.map((w) => (
              <li key={w.id}>
                <WebhookCard hook={w} onSecret={(s) => setSecret({ name: w.name, secret: s })} />
              </li>
            ))}
          </ul>
          {adding ? (
            <Panel className="p-4">
              <h3 className="mb-3 text-sm font-semibold text-zinc-900">Add a webhook</h3>
              <WebhookForm
                initial={EMPTY}
                submitLabel="Add webhook"
                onCancel={() => setAdding(false)}
                onSaved={(r) => {
                  setAdding(false);
                  if (r) setSecret(r);
                }}
              />
            </Panel>
          ) : (
            <Button variant="secondary" onClick={() => setAdding(true)}>
              Add webhook
            </Button>
          )}
        </>
      )}
    </Section>
  );
}

function WebhookForm({
  initial,
  id,
  submitLabel,
  onSaved,
  onCancel,
}: {
  initial: Draft;
  id?: string;
  submitLabel: string;
  onSaved: (created: { name: string; secret: string } | null) => void;
  onCancel: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [d, setD] = useState<Draft>(initial);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.notifications.webhooks.list.queryKey() });
  const create = useMutation(trpc.notifications.webhooks.create.mutationOptions({ onSuccess: () => void invalidate() }));
  const update = useMutation(trpc.notifications.webhooks.update.mutationOptions({ onSuccess: () => void invalidate() }));
  const m = id ? update : create;
  const issues = errorIssues(m.error);
  const fieldErrors = (path: string) => issues.filter((i) => i.path === path).map((i) => i.message);
  const prefix = id ?? "new";
  const plainHttp = /^http:\/\//i.test(d.url.trim());
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const input = { name: d.name, url: d.url, format: d.format, events: d.events, enabled: d.enabled };
    if (id) update.mutate({ id, webhook: input }, { onSuccess: () => onSaved(null) });
    else create.mutate(input, { onSuccess: (r) => onSaved({ name: d.name, secret: r.secret }) });
  };
  const toggle = (k: NotificationKind) => setD((x) => ({ ...x, events: x.events.includes(k) ? x.events.filter((e) => e !== k) : [...x.events, k] }));
  return (
    <form onSubmit={onSubmit} className="space-y-4">
      <Field id={`${prefix}-name`} label="Name" hint='What it is for, e.g. "#it-approvals in Slack".' errors={fieldErrors("name")}>
        {(p) => <input {...p} className={inputClass} value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} required maxLength={100} />}
      </Field>
      <Field id={`${prefix}-url`} label="URL" hint="Where the events are posted (HTTPS)." errors={fieldErrors("url")}>
        {(p) => <input {...p} type="url" inputMode="url" className={inputClass} value={d.url} onChange={(e) => setD({ ...d, url: e.target.value })} required placeholder="https://hooks.example.com/…" />}
      </Field>
      {plainHttp && (
        <Alert tone="info" title="Plain http">
          The events (users, computers, justifications) travel unencrypted. Use https unless the receiver is on a network you trust.
        </Alert>
      )}
      <fieldset className="space-y-2">
        <legend className="mb-1 text-sm font-medium text-zinc-800">Format</legend>
        {WEBHOOK_FORMATS.map((f) => (
          <Radio key={f} name={`${prefix}-format`} id={`${prefix}-format-${f}`} label={WEBHOOK_FORMAT_LABELS[f]} description={FORMAT_HELP[f]} checked={d.format === f} onChange={() => setD({ ...d, format: f })} />
        ))}
      </fieldset>
      <fieldset className="space-y-1">
        <legend className="mb-1 text-sm font-medium text-zinc-800">Events</legend>
        {NOTIFICATION_KINDS.map((k) => (
          <label key={k} className="flex min-h-11 cursor-pointer items-center gap-3 text-sm text-zinc-800">
            <input type="checkbox" checked={d.events.includes(k)} onChange={() => toggle(k)} className="size-5 accent-indigo-600" />
            {NOTIFICATION_KIND_LABELS[k]}
          </label>
        ))}
        {d.events.length === 0 && <p className="text-sm text-red-700">Choose at least one event.</p>}
      </fieldset>
      <label className="flex min-h-11 cursor-pointer items-center gap-3 text-sm text-zinc-800">
        <input type="checkbox" checked={d.enabled} onChange={(e) => setD({ ...d, enabled: e.target.checked })} className="size-5 accent-indigo-600" />
        On (when off, nothing is sent and waiting deliveries are dropped)
      </label>
      {m.isError && issues.length === 0 && <Alert title="Could not save">{errorMessage(m.error)}</Alert>}
      <div className="flex flex-wrap gap-3">
        <Button type="submit" disabled={m.isPending || d.events.length === 0}>
          {m.isPending ? "Saving…" : submitLabel}
        </Button>
        <Button variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function WebhookCard({ hook, onSecret }: { hook: WebhookView; onSecret: (secret: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [showLog, setShowLog] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const invalidate = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.notifications.webhooks.list.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.notifications.webhooks.deliveries.queryKey({ id: hook.id }) });
  };
  const test = useMutation(trpc.notifications.webhooks.sendTest.mutationOptions({ onSettled: invalidate }));
  const rotate = useMutation(trpc.notifications.webhooks.rotateSecret.mutationOptions({ onSuccess: (r) => onSecret(r.secret) }));
  const remove = useMutation(trpc.notifications.webhooks.delete.mutationOptions({ onSuccess: invalidate }));
  const retry = useMutation(trpc.notifications.webhooks.retryNow.mutationOptions({ onSuccess: invalidate }));

  return (
    <Panel className="p-4">
      {editing ? (
        <WebhookForm
          id={hook.id}
          initial={{ name: hook.name, url: hook.url, format: hook.format, events: hook.events, enabled: hook.enabled }}
          submitLabel="Save webhook"
          onCancel={() => setEditing(false)}
          onSaved={() => setEditing(false)}
        />
      ) : (
        <div className="space-y-3">
          <div className="flex flex-wrap items-center gap-2">
            <h3 className="text-sm font-semibold text-zinc-900">{hook.name}</h3>
            {hook.enabled ? <Badge className="bg-emerald-50 text-emerald-800 ring-emerald-300">On</Badge> : <Badge>Off</Badge>}
            <Badge>{WEBHOOK_FORMAT_LABELS[hook.format]}</Badge>
            {hook.pending > 0 && <Badge className={STATUS_STYLE.pending}>{hook.pending} waiting</Badge>}
            {hook.failed > 0 && <Badge className={STATUS_STYLE.failed}>{hook.failed} failed</Badge>}
          </div>
          <p className="break-all font-mono text-xs text-zinc-600">{hook.url}</p>
          {hook.url.startsWith("http://") && <p className="text-sm text-amber-800">⚠ Plain http: events travel unencrypted.</p>}
          <p className="text-sm text-zinc-600">{hook.events.map((k) => NOTIFICATION_KIND_LABELS[k]).join(" · ")}</p>
          {hook.lastDelivery && (
            <p className="text-sm text-zinc-600">
              Last: {STATUS_LABEL[hook.lastDelivery.status]} <time dateTime={hook.lastDelivery.at}>{formatExact(hook.lastDelivery.at)}</time>
              {hook.lastDelivery.error ? ` — ${hook.lastDelivery.error}` : ""}
            </p>
          )}
          <div className="flex flex-wrap gap-2">
            <Button variant="secondary" onClick={() => test.mutate({ id: hook.id })} disabled={test.isPending}>
              {test.isPending ? "Sending…" : "Send test"}
            </Button>
            <Button variant="secondary" onClick={() => setShowLog((s) => !s)} aria-expanded={showLog}>
              {showLog ? "Hide deliveries" : "Deliveries"}
            </Button>
            {hook.pending > 0 && (
              <Button variant="secondary" onClick={() => retry.mutate({ id: hook.id })} disabled={retry.isPending}>
                Retry now
              </Button>
            )}
            <Button variant="secondary" onClick={() => setEditing(true)}>
              Edit
            </Button>
            <Button variant="secondary" onClick={() => rotate.mutate({ id: hook.id })} disabled={rotate.isPending}>
              Rotate secret
            </Button>
            {confirmDelete ? (
              <>
                <Button variant="danger" onClick={() => remove.mutate({ id: hook.id })} disabled={remove.isPending}>
                  Delete for good
                </Button>
                <Button variant="ghost" onClick={() => setConfirmDelete(false)}>
                  Keep it
                </Button>
              </>
            ) : (
              <Button variant="danger" onClick={() => setConfirmDelete(true)}>
                Delete
              </Button>
            )}
          </div>
          <div aria-live="polite" className="space-y-2">
            {test.data?.ok && <p className="text-sm text-emerald-700">The receiver accepted the test (HTTP {test.data.status}).</p>}
            {test.data && !test.data.ok && <Alert title="The test was not accepted">{test.data.error}</Alert>}
            {[test, rotate, remove, retry].map((m, i) => m.isError && <Alert key={i}>{errorMessage(m.error)}</Alert>)}
          </div>
          {showLog && <DeliveryLog hookId={hook.id} onRetry={(deliveryId) => retry.mutate({ id: hook.id, deliveryId })} retrying={retry.isPending} />}
        </div>
      )}
    </Panel>
  );
}

function DeliveryLog({ hookId, onRetry, retrying }: { hookId: string; onRetry: (deliveryId: string) => void; retrying: boolean }) {
  const trpc = useTRPC();
  const log = useQuery({ ...trpc.notifications.webhooks.deliveries.queryOptions({ id: hookId }), refetchInterval: 5_000 });
  if (log.isPending) return <Spinner label="Loading deliveries…" />;
  if (log.isError) return <Alert title="Could not load the deliveries">{errorMessage(log.error)}</Alert>;
  if (log.data.deliveries.length === 0) return <p className="text-sm text-zinc-600">Nothing sent yet.</p>;
  return (
    <div className="overflow-x-auto rounded-lg border border-zinc-200">
      <table className={stackTable.table}>
        <caption className="sr-only">Recent deliveries, newest first</caption>
        <thead className={stackTable.thead}>
          <tr>
            <th className="px-4 py-2">Event</th>
            <th className="px-4 py-2">Status</th>
            <th className="px-4 py-2">Attempts</th>
            <th className="px-4 py-2">Answer</th>
            <th className="px-4 py-2">When</th>
            <th className="px-4 py-2">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className={stackTable.tbody}>
          {log.data.deliveries.map((d) => (
            <tr key={d.id} className={stackTable.tr}>
              <td className={stackTable.cell} data-label="Event">
                {d.eventType === "test" ? "Test" : `#${d.eventSeq} ${d.eventType}`}
              </td>
              <td className={stackTable.cell} data-label="Status">
                <Badge className={STATUS_STYLE[d.status]}>{STATUS_LABEL[d.status]}</Badge>
              </td>
              <td className={stackTable.cell} data-label="Attempts">
                {d.attempts}
              </td>
              <td className={stackTable.cell} data-label="Answer">
                {d.lastStatus !== null ? `HTTP ${d.lastStatus}` : ""}
                {d.lastError && <span className="block text-xs text-zinc-500">{d.lastError}</span>}
              </td>
              <td className={stackTable.cell} data-label="When">
                {d.status === "delivered" && d.deliveredAt ? (
                  <time dateTime={d.deliveredAt}>{formatExact(d.deliveredAt)}</time>
                ) : d.nextAttemptAt ? (
                  <span>
                    next try <time dateTime={d.nextAttemptAt}>{formatExact(d.nextAttemptAt)}</time>
                  </span>
                ) : (
                  <time dateTime={d.createdAt}>{formatExact(d.createdAt)}</time>
                )}
              </td>
              <td className={stackTable.cell} data-label="">
                {d.status === "failed" && d.eventType !== "test" && (
                  <Button variant="secondary" onClick={() => onRetry(d.id)} disabled={retrying}>
                    Retry
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
