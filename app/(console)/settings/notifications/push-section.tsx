"use client";
// Settings → Notifications → This device: web push for people who decide requests. Turning it on asks the browser
// for permission, subscribes with the server's VAPID key and tells the server; a pushed request shows Approve and
// Decline (public/sw-push.js). Also the list of my devices, each removable, and a test notification.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { useSync } from "../../../_lib/db/sync-provider";
import { errorMessage } from "../../../_lib/errors";
import { formatShort } from "../../../_lib/format";
import { useTRPC } from "../../../_lib/trpc";
import { Alert, Button, Section, Spinner } from "../../../_components/ui";

type DeviceState =
  | { kind: "checking" }
  | { kind: "unsupported"; why: string }
  | { kind: "blocked" }
  | { kind: "off" }
  | { kind: "on"; endpoint: string };

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function isIos(): boolean {
  return /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.userAgent.includes("Mac") && navigator.maxTouchPoints > 1);
}

/** A name for this device from its browser: "Chrome on Android", "Safari on iPhone". */
function deviceLabel(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone/.test(ua) ? "iPhone" : /iPad/.test(ua) ? "iPad" : /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "this device";
  return `${browser} on ${os}`;
}

async function currentSubscription(): Promise<PushSubscription | null> {
  const reg = await navigator.serviceWorker.getRegistration("/");
  return (await reg?.pushManager.getSubscription()) ?? null;
}

async function readState(): Promise<DeviceState> {
  if (typeof window === "undefined" || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return {
      kind: "unsupported",
      why: isIos()
        ? "On iPhone and iPad, notifications work only in the installed app: in Safari tap Share → Add to Home Screen, open JIT Access from the home screen, and turn them on there."
        : "This browser cannot receive push notifications. Use a current Chrome, Edge, Firefox or Safari.",
    };
  }
  if (!(await navigator.serviceWorker.getRegistration("/"))) {
    return { kind: "unsupported", why: "The console's offline support (its service worker) is not running in this browser yet: reload the page, then try again." };
  }
  if (Notification.permission === "denied") return { kind: "blocked" };
  const sub = await currentSubscription();
  return sub && Notification.permission === "granted" ? { kind: "on", endpoint: sub.endpoint } : { kind: "off" };
}

export function PushSection() {
  const trpc = useTRPC();
  const { online } = useSync();
  const queryClient = useQueryClient();
  const [state, setState] = useState<DeviceState>({ kind: "checking" });
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const key = useQuery({ ...trpc.push.vapidPublicKey.queryOptions(), enabled: online, staleTime: Infinity });
  const devices = useQuery({ ...trpc.push.mySubscriptions.queryOptions(), enabled: online });
  const subscribe = useMutation(trpc.push.subscribe.mutationOptions());
  const unsubscribe = useMutation(trpc.push.unsubscribe.mutationOptions());
  const test = useMutation(trpc.push.sendTest.mutationOptions({ onSettled: () => void devices.refetch() }));
  const refreshDevices = () => queryClient.invalidateQueries({ queryKey: trpc.push.mySubscriptions.queryKey() });

  const refresh = useCallback(() => {
    void readState().then(setState, () => setState({ kind: "unsupported", why: "This browser's notification settings could not be read." }));
  }, []);
  useEffect(refresh, [refresh]);

  /** Runs a change to this device's notifications: busy meanwhile, its problem shown, the state read again after. */
  const change = (work: () => Promise<void>, showBusy = true) => async () => {
    setProblem(null);
    if (showBusy) setBusy(true);
    try {
      await work();
      await refreshDevices();
    } catch (e) {
      setProblem(errorMessage(e));
    } finally {
      if (showBusy) setBusy(false);
      refresh();
    }
  };

  const turnOn = change(async () => {
    if (!key.data) throw new Error("The server's notification key has not loaded yet: try again in a moment.");
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      setProblem(permission === "denied" ? "Notifications are blocked for this site. Allow them in the browser's site settings, then try again." : "Notifications were not allowed. Try again and choose Allow.");
      return;
    }
    const reg = await navigator.serviceWorker.ready;
    let sub = await reg.pushManager.getSubscription();
    // A subscription made with another server key (a reinstalled server) cannot be used: make a new one.
    if (sub) {
      const had = sub.options.applicationServerKey;
      const want = keyBytes(key.data.publicKey);
      if (had && !new Uint8Array(had).every((b, i) => b === want[i])) {
        await sub.unsubscribe();
        sub = null;
      }
    }
    sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key.data.publicKey) });
    const json = sub.toJSON() as { endpoint: string; keys?: { p256dh?: string; auth?: string } };
    await subscribe.mutateAsync({ endpoint: json.endpoint, keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" }, label: deviceLabel() });
  });

  const turnOff = change(async () => {
    const sub = await currentSubscription();
    if (sub) {
      await unsubscribe.mutateAsync({ endpoint: sub.endpoint });
      await sub.unsubscribe();
    }
  });

  const remove = (id: string, endpoint: string) =>
    change(async () => {
      await unsubscribe.mutateAsync({ id });
      if (state.kind === "on" && state.endpoint === endpoint) await (await currentSubscription())?.unsubscribe();
    }, false)();

  const canSubscribe = key.data?.canSubscribe ?? true;
  return (
    <Section title="This device" description="Get a notification on this phone or computer the moment a request waits for you, and approve or decline it right from the notification.">
      {!online ? (
        <Alert tone="info" title="You are offline">
          Notification settings need the network. Notifications you already turned on keep arriving, and a decision made from one while offline is sent when this device is back online.
        </Alert>
      ) : key.isPending ? (
        <Spinner />
      ) : key.isError ? (
        <Alert title="Could not load the notification settings">{errorMessage(key.error)}</Alert>
      ) : !canSubscribe ? (
        <Alert tone="info" title="Not for your role">
          Push notifications tell about requests waiting for a decision. Your role does not decide requests, so there is nothing to send you.
        </Alert>
      ) : (
        <div className="space-y-4">
          <DeviceStatus state={state} />
          <div className="flex flex-wrap items-center gap-3">
            {state.kind === "off" && (
              <Button onClick={() => void turnOn()} disabled={busy}>
                {busy ? "Turning on…" : "Turn on notifications"}
              </Button>
            )}
            {state.kind === "on" && (
              <>
                <Button variant="secondary" onClick={() => test.mutate()} disabled={test.isPending}>
                  {test.isPending ? "Sending…" : "Send a test notification"}
                </Button>
                <Button variant="danger" onClick={() => void turnOff()} disabled={busy}>
                  {busy ? "Turning off…" : "Turn off on this device"}
                </Button>
              </>
            )}
          </div>
          <div aria-live="polite" className="space-y-2">
            {problem && <Alert title="Notifications were not turned on">{problem}</Alert>}
            {test.data &&
              (test.data.results.length === 0 ? (
                <p className="text-sm text-zinc-600">None of your devices has notifications on.</p>
              ) : (
                <ul className="space-y-1 text-sm">
                  {test.data.results.map((r) => (
                    <li key={r.id} className={r.ok ? "text-emerald-700" : "text-red-700"}>
                      {r.label}: {r.ok ? "sent. It should appear in a few seconds." : `not sent (${r.error})${r.removed ? "; the device was removed" : ""}.`}
                    </li>
                  ))}
                </ul>
              ))}
            {test.isError && <Alert title="The test was not sent">{errorMessage(test.error)}</Alert>}
          </div>
          <DeviceList
            devices={devices.data?.devices}
            loading={devices.isPending}
            error={devices.isError ? errorMessage(devices.error) : null}
            thisEndpoint={state.kind === "on" ? state.endpoint : null}
            onRemove={(id, endpoint) => void remove(id, endpoint)}
          />
        </div>
      )}
    </Section>
  );
}

function DeviceStatus({ state }: { state: DeviceState }) {
  switch (state.kind) {
    case "checking":
      return <Spinner label="Checking this browser…" />;
    case "unsupported":
      return (
        <Alert tone="info" title="Not available in this browser">
          {state.why}
        </Alert>
      );
    case "blocked":
      return (
        <Alert title="Blocked by the browser">
          Notifications for this site are blocked. Allow them in the browser&apos;s site settings (the lock or settings icon next to the address), then reload this page.
        </Alert>
      );
    case "off":
      return (
        <p className="text-sm text-zinc-700">
          <span className="font-medium text-zinc-900">Off on this device.</span> Turn them on and allow notifications when the browser asks. On iPhone and iPad, open JIT Access from its home-screen icon first
          (Share → Add to Home Screen).
        </p>
      );
    case "on":
      return (
        <p className="text-sm text-zinc-700">
          <span className="font-medium text-emerald-700">On for this device.</span> New requests appear as notifications with Approve and Decline; a decision made there is checked and recorded like one made here.
        </p>
      );
  }
}

function DeviceList({
  devices,
  loading,
  error,
  thisEndpoint,
  onRemove,
}: {
  devices: { id: string; label: string; endpoint: string; createdAt: string; lastUsedAt: string | null }[] | undefined;
  loading: boolean;
  error: string | null;
  thisEndpoint: string | null;
  onRemove: (id: string, endpoint: string) => void;
}) {
  if (loading) return <Spinner label="Loading your devices…" />;
  if (error) return <Alert title="Could not load your devices">{error}</Alert>;
  if (!devices || devices.length === 0) return null;
  return (
    <div>
      <h3 className="mb-2 text-sm font-medium text-zinc-900">Your devices with notifications on</h3>
      <ul className="divide-y divide-zinc-200 rounded-lg border border-zinc-200">
        {devices.map((d) => (
          <li key={d.id} className="flex flex-wrap items-center justify-between gap-2 px-3 py-2">
            <div className="min-w-0 text-sm">
              <p className="font-medium text-zinc-900">
                {d.label}
                {d.endpoint === thisEndpoint && <span className="ml-2 text-xs font-normal text-zinc-500">(this device)</span>}
              </p>
              <p className="text-zinc-500">
                Added {formatShort(d.createdAt)} · {d.lastUsedAt ? `last notified ${formatShort(d.lastUsedAt)}` : "not notified yet"}
              </p>
            </div>
            <Button variant="ghost" onClick={() => onRemove(d.id, d.endpoint)} aria-label={`Remove ${d.label}`}>
              Remove
            </Button>
          </li>
        ))}
      </ul>
    </div>
  );
}
