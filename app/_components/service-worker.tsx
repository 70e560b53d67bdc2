"use client";
// Registers the service worker (scripts/build-sw.mjs) in production builds only, and announces a new version
// instead of swapping it in under the admin: the new worker waits until "Reload" is clicked.
import { useEffect, useRef, useState } from "react";
import { Button } from "./ui";

/** A worker that finished installing while another one controls the page is an update to announce. */
export function isWaitingUpdate(worker: { state: string } | null | undefined, controller: unknown): boolean {
  return !!worker && worker.state === "installed" && !!controller;
}

const UPDATE_CHECK_MS = 60 * 60 * 1000;

export function ServiceWorkerUpdates() {
  const [waiting, setWaiting] = useState<ServiceWorker | null>(null);
  const accepted = useRef(false);

  useEffect(() => {
    if (process.env.NODE_ENV !== "production" || !("serviceWorker" in navigator)) return;
    const sw = navigator.serviceWorker;
    let registration: ServiceWorkerRegistration | null = null;
    let stopped = false;

    // The first install also changes the controller (clientsClaim): reload only when the admin asked for it.
    const onControllerChange = () => {
      if (accepted.current) window.location.reload();
    };
    sw.addEventListener("controllerchange", onControllerChange);

    const watch = (worker: ServiceWorker | null) => {
      if (!worker) return;
      const check = () => {
        if (!stopped && isWaitingUpdate(worker, sw.controller)) setWaiting(worker);
      };
      check();
      worker.addEventListener("statechange", check);
    };
    const onUpdateFound = () => watch(registration?.installing ?? null);
    const checkForUpdate = () => {
      if (document.visibilityState === "visible") registration?.update().catch(() => {});
    };

    // Precaching the shell (~1.4 MB) waits until the console's first sync is done (it says so with "jit:synced"),
    // or 10 s after the page loaded: it never competes with the first screen or with the first sync's writes.
    let registered = false;
    const register = () => {
      if (registered) return;
      registered = true;
      sw.register("/sw.js", { scope: "/", updateViaCache: "none" })
        .then((reg) => {
          if (stopped) return;
          registration = reg;
          watch(reg.waiting);
          watch(reg.installing);
          reg.addEventListener("updatefound", onUpdateFound);
        })
        .catch(() => {
          // No worker (e.g. a browser that refuses it): the console still works online.
        });
    };
    let fallback = 0;
    const loaded = () => (fallback = window.setTimeout(register, 10_000));
    window.addEventListener("jit:synced", register);
    if (document.readyState === "complete") loaded();
    else window.addEventListener("load", loaded, { once: true });
    document.addEventListener("visibilitychange", checkForUpdate);
    const timer = window.setInterval(checkForUpdate, UPDATE_CHECK_MS);
    return () => {
      stopped = true;
      window.removeEventListener("load", loaded);
      window.removeEventListener("jit:synced", register);
      window.clearTimeout(fallback);
      sw.removeEventListener("controllerchange", onControllerChange);
      registration?.removeEventListener("updatefound", onUpdateFound);
      document.removeEventListener("visibilitychange", checkForUpdate);
      window.clearInterval(timer);
    };
  }, []);

  // The live region is always there, so screen readers announce the update when it appears.
  return (
    <div role="status">
      {waiting && (
        <div className="fixed inset-x-3 bottom-3 z-50 mx-auto flex max-w-md items-center justify-between gap-3 rounded-xl border border-zinc-200 bg-white p-3 pl-4 shadow-lg">
          <p className="text-sm font-medium text-zinc-900">Update available — reload to use the new version.</p>
          <Button
            onClick={() => {
              accepted.current = true;
              waiting.postMessage({ type: "SKIP_WAITING" });
            }}
          >
            Reload
          </Button>
        </div>
      )}
    </div>
  );
}
