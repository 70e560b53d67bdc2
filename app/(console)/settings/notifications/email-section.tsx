"use client";
// Settings → Notifications → Email: the signed-in user's own opt-in (any role), with the events their role is told
// about, and a test email. Needs the network (nothing here is kept offline).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { NOTIFICATION_KIND_LABELS, type NotificationKind } from "../../../../core/notifications";
import { useSync } from "../../../_lib/db/sync-provider";
import { errorMessage } from "../../../_lib/errors";
import { useTRPC } from "../../../_lib/trpc";
import { Alert, Button, Section, Spinner } from "../../../_components/ui";

const KIND_HELP: Record<NotificationKind, string> = {
  "request.submitted": "A user asks for elevation: decide it from the link in the email.",
  "request.decided": "Someone approved or declined a request.",
  "grant.ended": "An approved elevation expired, was revoked or was ended early.",
  "policy.deployed": "A policy was deployed to computers.",
  "audit.verify_failed": "The audit trail failed verification (an event was edited, deleted or inserted).",
};

export function EmailSection() {
  const trpc = useTRPC();
  const { online } = useSync();
  const queryClient = useQueryClient();
  const prefs = useQuery({ ...trpc.notifications.email.get.queryOptions(), enabled: online });
  const [enabled, setEnabled] = useState(false);
  const [events, setEvents] = useState<NotificationKind[]>([]);
  useEffect(() => {
    if (!prefs.data) return;
    setEnabled(prefs.data.enabled);
    setEvents(prefs.data.events);
  }, [prefs.data]);
  const save = useMutation(
    trpc.notifications.email.set.mutationOptions({
      onSuccess: (data) => queryClient.setQueryData(trpc.notifications.email.get.queryKey(), data),
    }),
  );
  const test = useMutation(trpc.notifications.email.sendTest.mutationOptions());
  const toggle = (k: NotificationKind) => setEvents((e) => (e.includes(k) ? e.filter((x) => x !== k) : [...e, k]));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ enabled, events });
  };
  const noEvents = enabled && events.length === 0;

  return (
    <Section title="Email" description="Get an email with a link straight to the request. Your own choice: each console user decides for themselves.">
      {!online ? (
        <Alert tone="info" title="You are offline">
          Email settings need the network. They appear when this device is back online.
        </Alert>
      ) : prefs.isPending ? (
        <Spinner />
      ) : prefs.isError ? (
        <Alert title="Could not load your email settings">{errorMessage(prefs.error)}</Alert>
      ) : (
        <form onSubmit={onSubmit} className="space-y-4">
          {!prefs.data.available && (
            <Alert tone="info" title="Email is off on this server">
              An administrator turns it on by setting SMTP_URL (and MAIL_FROM) for the server. You can choose now; emails start once it is set.
            </Alert>
          )}
          <label className="flex min-h-11 cursor-pointer items-center gap-3 text-sm text-zinc-800">
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} className="size-5 accent-indigo-600" />
            <span>
              Email me at <span className="font-medium">{prefs.data.address}</span>
            </span>
          </label>
          <fieldset disabled={!enabled} className="space-y-1 disabled:opacity-60">
            <legend className="mb-1 text-sm font-medium text-zinc-800">Tell me when</legend>
            {prefs.data.offered.map((k) => (
              <label key={k} className="flex min-h-11 cursor-pointer items-start gap-3 py-1 text-sm">
                <input type="checkbox" checked={events.includes(k)} onChange={() => toggle(k)} className="mt-0.5 size-5 shrink-0 accent-indigo-600" />
                <span>
                  <span className="block font-medium text-zinc-900">{NOTIFICATION_KIND_LABELS[k]}</span>
                  <span className="block text-zinc-500">{KIND_HELP[k]}</span>
                </span>
              </label>
            ))}
            {prefs.data.offered.length < 5 && <p className="text-sm text-zinc-500">Requests and elevations are offered to roles that decide requests.</p>}
          </fieldset>
          {noEvents && <p className="text-sm text-red-700">Choose at least one event, or turn email off.</p>}
          <div className="flex flex-wrap items-center gap-3">
            <Button type="submit" disabled={save.isPending || noEvents}>
              {save.isPending ? "Saving…" : "Save email settings"}
            </Button>
            <Button variant="secondary" onClick={() => test.mutate()} disabled={test.isPending || !prefs.data.available}>
              {test.isPending ? "Sending…" : "Send me a test email"}
            </Button>
          </div>
          <div aria-live="polite" className="space-y-2">
            {save.isSuccess && <p className="text-sm text-emerald-700">Saved.</p>}
            {save.isError && <Alert title="Could not save">{errorMessage(save.error)}</Alert>}
            {test.data?.ok && <p className="text-sm text-emerald-700">Sent to {prefs.data.address}. Look in your inbox.</p>}
            {test.data && !test.data.ok && <Alert title="The test email was not sent">{test.data.error}</Alert>}
            {test.isError && <Alert title="The test email was not sent">{errorMessage(test.error)}</Alert>}
          </div>
        </form>
      )}
    </Section>
  );
}
