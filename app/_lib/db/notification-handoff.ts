// Decisions made from a push notification while offline (public/sw-push.js keeps them in a small IndexedDB queue):
// an open console takes its own user's into its outbox, where they show as waiting to sync and go out with the
// rest. The entry keeps the id the service worker gave it, so a copy the worker also sends runs once on the server.
// Loaded with import() by the sync provider, so none of this is in the first-load bundle.
import type { OpenStore } from "./database";

const HANDOFF_DB = "jit-notification-handoff";
const HANDOFF_STORE = "decisions";
/** A queued decision nobody could send for this long (its user never came back on this device) is dropped. */
const MAX_AGE_MS = 7 * 24 * 3_600_000;

type Handoff = { id: string; userId: string; queuedAt: string; entry: Record<string, unknown> & { id: string } };

function openQueue(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(HANDOFF_DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(HANDOFF_STORE, { keyPath: "id" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function run<T>(db: IDBDatabase, mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(HANDOFF_STORE, mode);
    const req = fn(tx.objectStore(HANDOFF_STORE));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Moves this user's queued decisions into the outbox; the number moved. */
export async function drainNotificationHandoff(store: OpenStore, userId: string, now = Date.now()): Promise<number> {
  if (typeof indexedDB === "undefined") return 0;
  const db = await openQueue();
  try {
    const items = ((await run(db, "readonly", (s) => s.getAll())) ?? []) as Handoff[];
    let moved = 0;
    for (const item of items) {
      if (item.userId !== userId) {
        if (now - Date.parse(item.queuedAt) > MAX_AGE_MS) await run(db, "readwrite", (s) => s.delete(item.id));
        continue;
      }
      const { _deleted: _, ...fields } = item.entry;
      const have = await store.db.outbox.findOne(item.entry.id).exec();
      if (!have) {
        await store.db.outbox.insert(fields as never).catch(() => undefined); // the worker's copy synced first: fine
        moved += 1;
      }
      await run(db, "readwrite", (s) => s.delete(item.id));
    }
    return moved;
  } finally {
    db.close();
  }
}

/** Drains now and whenever the service worker says it queued one; returns the stop function. */
export function watchNotificationHandoff(store: OpenStore, userId: string): () => void {
  const drain = () => void drainNotificationHandoff(store, userId).catch(() => undefined);
  drain();
  const sw = typeof navigator !== "undefined" ? navigator.serviceWorker : undefined;
  const onMessage = (e: MessageEvent) => {
    if ((e.data as { type?: string } | null)?.type === "jit-notification-handoff") drain();
  };
  sw?.addEventListener("message", onMessage);
  window.addEventListener("online", drain);
  return () => {
    sw?.removeEventListener("message", onMessage);
    window.removeEventListener("online", drain);
  };
}
