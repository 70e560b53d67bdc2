// Web push in the console's service worker (imported by the Workbox worker, scripts/build-sw.mjs): shows a
// pending request's notification with Approve and Decline, and makes that decision as the signed-in console user.
//
// A decision is an outbox entry (core/sync.ts) with an id made here, POSTed to the same sync.push procedure the
// console's offline store uses, with the session cookie: the server checks role and state again and records it,
// and a resend with the same id runs once. Offline (or the server down), the entry waits in a small IndexedDB queue
// (the "handoff"): this worker sends it again on Background Sync, the next push or its next start, and an open
// console drains it into its own outbox (app/_lib/db/notification-handoff.ts), where it shows as waiting to sync.
(() => {
  const HANDOFF_DB = "jit-notification-handoff";
  const HANDOFF_STORE = "decisions";
  const SYNC_TAG = "jit-notification-handoff";
  const ICON = "/icons/icon-192.png";
  const DECLINE_REASON = "Declined from a notification";

  // ---- The handoff queue (IndexedDB) ----
  function openQueue() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(HANDOFF_DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(HANDOFF_STORE, { keyPath: "id" });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function queueOp(mode, fn) {
    const db = await openQueue();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(HANDOFF_STORE, mode);
        const req = fn(tx.objectStore(HANDOFF_STORE));
        tx.oncomplete = () => resolve(req ? req.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }
  const queuePut = (item) => queueOp("readwrite", (s) => s.put(item));
  const queueDelete = (id) => queueOp("readwrite", (s) => s.delete(id));
  const queueAll = () => queueOp("readonly", (s) => s.getAll());

  // ---- Showing ----
  const baseName = (path) => String(path || "").split(/[\\/]/).filter(Boolean).pop() || String(path || "an application");

  function show(data) {
    if (!data || typeof data !== "object") {
      return self.registration.showNotification("JIT Access", { body: "Something needs your attention in JIT Access.", icon: ICON, tag: "jit-access", data: { url: "/requests" } });
    }
    if (data.kind === "test") {
      return self.registration.showNotification("JIT Access: test notification", {
        body: "Notifications reach this device. Requests waiting for you will appear like this, with Approve and Decline.",
        icon: ICON,
        tag: "jit-access-test",
        data: { url: data.url || "/settings/notifications" },
      });
    }
    const lines = [`${data.user}@${data.computer}${data.duration ? ` · ${data.duration}` : ""}`, data.app];
    if (data.justification) lines.push(`“${data.justification}”`);
    return self.registration.showNotification(`Elevation request: ${baseName(data.app)}`, {
      body: lines.join("\n"),
      icon: ICON,
      badge: ICON,
      tag: data.requestId || "jit-access",
      renotify: true,
      requireInteraction: true,
      actions: [
        { action: "approve", title: "Approve" },
        { action: "decline", title: "Decline" },
      ],
      data,
    });
  }

  /** A follow-up in place of the request's notification: what happened to the decision. */
  function tell(item, title, body) {
    return self.registration.showNotification(title, { body, icon: ICON, tag: item.requestId || "jit-access", data: { url: item.url || "/requests" } });
  }

  // ---- Deciding ----
  function outboxEntry(action, data) {
    const at = new Date().toISOString();
    const approve = action === "approve";
    return {
      id: crypto.randomUUID(),
      kind: approve ? "request.approve" : "request.decline",
      payload: approve ? { id: data.requestId } : { id: data.requestId, reason: DECLINE_REASON },
      clientAt: at,
      status: "waiting",
      message: null,
      serverAt: null,
      result: null,
      updatedAt: at,
      _deleted: false,
    };
  }

  const who = (item) => `${item.user}'s request${item.app ? ` for ${baseName(item.app)}` : ""}`;
  const verb = (item) => (item.entry.kind === "request.approve" ? "approval" : "decline");

  /**
   * Sends one queued decision. "sent": the server answered (told, removed from the queue); "offline": try again
   * later; "wait": it stays queued for the console (signed out, or someone else signed in on this device).
   */
  async function send(item) {
    let res;
    try {
      const status = await fetch("/api/trpc/auth.status", { credentials: "same-origin", cache: "no-store" });
      if (status.status >= 500) return "offline";
      const me = status.ok ? (await status.json()).result?.data?.user : null;
      if (!me || me.id !== item.userId) {
        await tell(item, "Sign in to send your decision", `Your ${verb(item)} of ${who(item)} is kept on this device. Open JIT Access and sign in as the approver this notification was for; it is sent then.`);
        return "wait";
      }
      res = await fetch("/api/trpc/sync.push", {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ collection: "outbox", rows: [{ assumedMasterState: null, newDocumentState: item.entry }] }),
      });
    } catch {
      return "offline";
    }
    if (res.status >= 500 || res.status === 429) return "offline";
    let outcome = null;
    try {
      const body = await res.json();
      outcome = res.ok ? (body.result?.data?.conflicts || [])[0] : null;
      if (!res.ok) {
        await queueDelete(item.id);
        await tell(item, "Your decision was not sent", `JIT Access refused it: ${body.error?.message || `HTTP ${res.status}`}. Open the console to decide ${who(item)}.`);
        return "sent";
      }
    } catch {
      return "offline";
    }
    await queueDelete(item.id);
    if (outcome && outcome.status === "accepted") {
      await tell(item, item.entry.kind === "request.approve" ? "Approved" : "Declined", `${who(item)} on ${item.computer}.`);
    } else if (outcome && outcome.status === "refused") {
      await tell(item, "Your decision did not count", outcome.message || "The server refused it. Open the console to see the request.");
    } else {
      await tell(item, "Decision sent", `Open the console to see ${who(item)}.`);
    }
    return "sent";
  }

  let draining = null;
  /** Sends what waits in the queue, oldest first, until the network fails: "offline" when some are left for later. */
  function drainQueue() {
    draining =
      draining ||
      (async () => {
        try {
          const items = (await queueAll()).sort((a, b) => String(a.entry.clientAt).localeCompare(String(b.entry.clientAt)));
          for (const item of items) {
            if ((await send(item)) === "offline") return "offline";
          }
          return "done";
        } finally {
          draining = null;
        }
      })();
    return draining;
  }

  async function decide(action, data) {
    const item = {
      id: "",
      entry: outboxEntry(action, data),
      userId: data.userId,
      requestId: data.requestId,
      user: data.user,
      computer: data.computer,
      app: data.app,
      url: data.url,
      queuedAt: new Date().toISOString(),
    };
    item.id = item.entry.id;
    // Queued first: if the worker stops mid-send, the entry is still there, and its id makes a resend harmless.
    await queuePut(item);
    const result = await send(item);
    if (result !== "offline") return;
    await tell(item, "Waiting to sync", `Your ${verb(item)} of ${who(item)} is kept on this device and sent when it is back online.`);
    try {
      if (self.registration.sync) await self.registration.sync.register(SYNC_TAG);
    } catch {
      // No Background Sync here: the next push, the worker's next start or an open console sends it.
    }
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const page of pages) page.postMessage({ type: "jit-notification-handoff" });
  }

  async function openConsole(url) {
    const target = new URL(url || "/requests", self.location.origin);
    if (target.origin !== self.location.origin) target.href = new URL(target.pathname + target.search, self.location.origin).href;
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const page of pages) {
      if (new URL(page.url).origin === self.location.origin && "focus" in page) {
        await page.focus();
        if ("navigate" in page) await page.navigate(target.href).catch(() => undefined);
        return;
      }
    }
    await self.clients.openWindow(target.href);
  }

  // `waitUntil` throws on an event the worker made itself (tests dispatch one): the work runs either way.
  const keepAlive = (event, p) => {
    try {
      event.waitUntil(p);
    } catch {
      // not a trusted event
    }
    return p;
  };

  self.addEventListener("push", (event) => {
    let data = null;
    try {
      data = event.data ? event.data.json() : null;
    } catch {
      data = null;
    }
    keepAlive(event, Promise.all([show(data), drainQueue().catch(() => undefined)]));
  });

  self.addEventListener("notificationclick", (event) => {
    const n = event.notification;
    const data = (n && n.data) || {};
    n.close();
    const p =
      (event.action === "approve" || event.action === "decline") && data.requestId && data.userId
        ? decide(event.action, data)
        : openConsole(data.url);
    keepAlive(event, p.catch(() => undefined));
  });

  self.addEventListener("sync", (event) => {
    // Rejecting asks the browser to fire it again later, with its own back-off.
    if (event.tag === SYNC_TAG)
      keepAlive(
        event,
        drainQueue().then((left) => {
          if (left === "offline") throw new Error("still offline");
        }),
      );
  });

  self.addEventListener("activate", (event) => keepAlive(event, drainQueue().catch(() => undefined)));
})();
