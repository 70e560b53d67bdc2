"use client";
// Opens the signed-in person's local store (lazily: RxDB loads after the first paint), keeps it replicated with the
// server over tRPC (pull by checkpoint, push of the outbox, a change stream that says when to pull), and tells
// the screens and the sync indicator how it goes: online or not, last synced, waiting to sync, refused writes.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { ConsoleUser } from "../../../core/console-api";
import { errorCode, errorMessage } from "../errors";
import { useTRPC, useTRPCClient } from "../trpc";
import { useQueryClient } from "@tanstack/react-query";
import type { CollectionName, OutboxEntry, OutboxKind, SyncApi, SyncCheckpoint } from "./contract";
import type { OpenStore } from "./database";
import { collectionsFor, newOutboxEntry, SYNC_PULL_LIMIT_MAX } from "../../../core/sync-basics";

export type SyncStatus = {
  /** The open store, or null while it opens (or if this browser cannot keep one). */
  store: OpenStore | null;
  /** The store could not open: screens fall back to asking the server directly. */
  unavailable: boolean;
  online: boolean;
  lastSyncedAt: number | null;
  /** The first replication since the store opened has finished (everything there was has been pulled). */
  caughtUp: boolean;
  error: string | null;
  waiting: OutboxEntry[];
  refused: OutboxEntry[];
  retry: () => void;
  dismiss: (id: string) => void;
};

const SyncContext = createContext<SyncStatus | null>(null);

export function useSync(): SyncStatus {
  const s = useContext(SyncContext);
  if (!s) throw new Error("useSync outside the SyncProvider");
  return s;
}

const LAST_USER_KEY = "jit.sync.user";
const dismissedKey = (userId: string) => `jit.sync.dismissed.${userId}`;

function readDismissed(userId: string): string[] {
  try {
    return JSON.parse(localStorage.getItem(dismissedKey(userId)) ?? "[]") as string[];
  } catch {
    return [];
  }
}

type SyncClient = {
  sync: {
    pull: { query: SyncApi["pull"] };
    push: { mutate: (input: Parameters<SyncApi["push"]>[0]) => Promise<{ conflicts: unknown[] }> };
    stream: {
      subscribe: (
        input: undefined,
        opts: { onStarted?: () => void; onData?: (d: unknown) => void; onError?: (e: unknown) => void },
      ) => { unsubscribe: () => void };
    };
  };
};

/** The store open in this tab, by person: sign-out must close it before IndexedDB lets it be deleted. */
const openStores = new Map<string, OpenStore>();

/** Wipes the local store of a person (at sign-out, or when someone else signs in on this browser). */
export async function wipeLocalStore(userId: string): Promise<void> {
  try {
    localStorage.removeItem(dismissedKey(userId));
    if (localStorage.getItem(LAST_USER_KEY) === userId) localStorage.removeItem(LAST_USER_KEY);
    const open = openStores.get(userId);
    openStores.delete(userId);
    if (open) return await open.remove();
    const { removeDatabase } = await import("./database");
    await removeDatabase(userId);
  } catch {
    // Nothing stored, or no IndexedDB here.
  }
}

export function SyncProvider({ user, children }: { user: ConsoleUser; children: ReactNode }) {
  const client = useTRPCClient() as unknown as SyncClient;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [store, setStore] = useState<OpenStore | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const [online, setOnline] = useState(true);
  const [lastSyncedAt, setLastSyncedAt] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Every collection has pulled everything there was when the store opened.
  const [caughtUp, setCaughtUp] = useState(false);
  const [outbox, setOutbox] = useState<OutboxEntry[]>([]);
  const [dismissed, setDismissed] = useState<string[]>([]);
  const storeRef = useRef<OpenStore | null>(null);

  useEffect(() => {
    setOnline(navigator.onLine);
    setDismissed(readDismissed(user.id));
  }, [user.id]);

  // Open the store for this person; a different person's store on this browser is wiped first.
  useEffect(() => {
    let cancelled = false;
    let opened: OpenStore | null = null;
    const synced = () => {
      setLastSyncedAt(Date.now());
      setError(null);
    };
    const api: SyncApi = {
      pull: async (input) => {
        const res = await client.sync.pull.query(input).catch((e: unknown) => {
          // A server without the sync procedures: the console keeps asking the server directly.
          if (errorCode(e) === "NOT_FOUND") setUnavailable(true);
          // The session ended: the shell asks who is signed in and goes to the sign-in page.
          if (errorCode(e) === "UNAUTHORIZED") void queryClient.invalidateQueries({ queryKey: trpc.auth.status.queryKey() });
          throw e;
        });
        synced();
        return res;
      },
      push: async (input) => {
        const res = await client.sync.push.mutate(input);
        synced();
        return res.conflicts;
      },
    };
    void (async () => {
      try {
        const previous = localStorage.getItem(LAST_USER_KEY);
        if (previous && previous !== user.id) await wipeLocalStore(previous);
        // A first sync on this browser: the first page of each collection is asked for while RxDB loads (the store
        // awaits them once open; a failure is retried there).
        // Requests first: the longest pull (page after page), the others fill in around it.
        const readable = collectionsFor(user.role).sort((a, b) => Number(b === "requests") - Number(a === "requests"));
        const first =
          previous === user.id
            ? undefined
            : new Map(
                readable.map((name) => {
                  const page = api.pull({ collection: name, checkpoint: null, limit: SYNC_PULL_LIMIT_MAX });
                  page.catch(() => undefined);
                  return [name, page] as const;
                }),
              );
        localStorage.setItem(LAST_USER_KEY, user.id);
        const { openStore } = await import("./database");
        opened = await openStore(user.id, api, readable, { first });
        if (cancelled) {
          await opened.close();
          return;
        }
        storeRef.current = opened;
        openStores.set(user.id, opened);
        opened.error$.subscribe((e) => {
          if (navigator.onLine) setError(errorMessage(e));
        });
        setStore(opened);
        void opened.caughtUp.then(() => {
          dispatchEvent(new Event("jit:synced")); // the service worker may precache now
          if (!cancelled) setCaughtUp(true);
        });
      } catch (e) {
        console.error("The local store could not open; the console works online only.", e);
        if (!cancelled) setUnavailable(true);
      }
    })();
    return () => {
      cancelled = true;
      setCaughtUp(false);
      storeRef.current = null;
      setStore(null);
      if (opened && openStores.get(user.id) === opened) openStores.delete(user.id);
      if (opened) void opened.close().catch(() => undefined);
    };
  }, [client, user.id]); // eslint-disable-line react-hooks/exhaustive-deps -- the role as at opening; trpc and queryClient are stable

  // The change stream says which collection changed; each (re)connect pulls everything, to catch what was missed.
  useEffect(() => {
    if (!store) return;
    const sub = client.sync.stream.subscribe(undefined, {
      onStarted: () => store.resync(),
      onData: (d) => {
        const collection = (d as { collection?: CollectionName } | null)?.collection;
        store.resync(collection);
      },
      onError: () => undefined,
    });
    return () => sub.unsubscribe();
  }, [client, store]);

  useEffect(() => {
    const up = () => {
      setOnline(true);
      storeRef.current?.resync();
    };
    const down = () => setOnline(false);
    window.addEventListener("online", up);
    window.addEventListener("offline", down);
    return () => {
      window.removeEventListener("online", up);
      window.removeEventListener("offline", down);
    };
  }, []);

  useEffect(() => {
    if (!store) return;
    const sub = store.outbox$.subscribe(setOutbox);
    return () => sub.unsubscribe();
  }, [store]);

  // Decisions made from a push notification while offline (public/sw-push.js) join the outbox; loaded lazily.
  useEffect(() => {
    if (!store) return;
    let stop: (() => void) | undefined;
    let cancelled = false;
    void import("./notification-handoff").then((m) => (cancelled ? undefined : (stop = m.watchNotificationHandoff(store, user.id))), () => undefined);
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [store, user.id]);

  const retry = useCallback(() => {
    setError(null);
    storeRef.current?.resync();
  }, []);

  const dismiss = useCallback(
    (id: string) => {
      setDismissed((d) => {
        const next = [...d, id];
        try {
          localStorage.setItem(dismissedKey(user.id), JSON.stringify(next));
        } catch {
          // kept for this visit only
        }
        return next;
      });
    },
    [user.id],
  );

  const value = useMemo<SyncStatus>(
    () => ({
      store: unavailable ? null : store,
      unavailable,
      online,
      lastSyncedAt,
      caughtUp,
      error,
      waiting: outbox.filter((e) => e.status === "waiting"),
      refused: outbox.filter((e) => e.status === "refused" && !dismissed.includes(e.id)),
      retry,
      dismiss,
    }),
    [store, unavailable, online, lastSyncedAt, caughtUp, error, outbox, dismissed, retry, dismiss],
  );
  return <SyncContext.Provider value={value}>{children}</SyncContext.Provider>;
}

/** The documents of a local collection, live; `undefined` while the store opens. */
export function useLocalDocs<T>(
  name: CollectionName,
  selector: Record<string, unknown> = {},
  sort?: Record<string, "asc" | "desc">[],
  limit?: number,
  enabled = true,
): T[] | undefined {
  const { store: open } = useSync();
  const store = enabled ? open : null;
  const [docs, setDocs] = useState<T[] | undefined>(undefined);
  const key = JSON.stringify([selector, sort, limit]);
  useEffect(() => {
    if (!store) return;
    const [sel, srt, lim] = JSON.parse(key) as [Record<string, unknown>, Record<string, "asc" | "desc">[] | undefined, number | undefined];
    // While a first replication writes thousands of documents in batches, re-render at most every 100 ms with the
    // newest result, not once per batch: the first answer comes at once, later ones are coalesced.
    // (Done by hand rather than with rxjs's throttleTime, which would put rxjs into the first-load bundle.)
    let latest: { toJSON: (withMeta: boolean) => unknown }[] | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const show = () => {
      if (latest) setDocs(latest.map((r) => r.toJSON(true) as T));
      latest = null;
    };
    const sub = store.db[name].find({ selector: sel, ...(srt ? { sort: srt } : {}), ...(lim ? { limit: lim } : {}) }).$.subscribe((rows) => {
      latest = rows;
      if (timer) return;
      show();
      timer = setTimeout(function again() {
        timer = latest ? setTimeout(again, 100) : null;
        show();
      }, 100);
    });
    return () => {
      sub.unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [store, name, key]);
  return store ? docs : undefined;
}

export type OutboxOutcome = { status: "accepted" | "refused" | "waiting"; message: string | null; entry: OutboxEntry };

/**
 * Writes go to the outbox; the replication pushes them at once when online. `write` resolves with the server's
 * outcome when it comes within `waitMs`, or with "waiting" (offline, or slow): the entry then syncs later.
 */
export function useOutbox(): { ready: boolean; write: (kind: OutboxKind, payload: Record<string, unknown>, waitMs?: number) => Promise<OutboxOutcome> } {
  const { store } = useSync();
  const write = useCallback(
    async (kind: OutboxKind, payload: Record<string, unknown>, waitMs = 8_000): Promise<OutboxOutcome> => {
      if (!store) throw new Error("The local store is not open yet: try again in a moment.");
      const entry = newOutboxEntry(crypto.randomUUID(), kind, payload as never, new Date());
      const { _deleted: _, ...fields } = entry;
      const doc = await store.db.outbox.insert(fields as never);
      if (!navigator.onLine || waitMs <= 0) return { status: "waiting", message: null, entry };
      return new Promise<OutboxOutcome>((resolve) => {
        const timer = setTimeout(() => {
          sub.unsubscribe();
          resolve({ status: "waiting", message: null, entry });
        }, waitMs);
        const sub = doc.$.subscribe((d: unknown) => {
          const e = (d as { toJSON: (w: boolean) => unknown }).toJSON(true) as OutboxEntry;
          if (e.status !== "waiting") {
            clearTimeout(timer);
            queueMicrotask(() => sub.unsubscribe());
            resolve({ status: e.status, message: e.message, entry: e });
          }
        });
      });
    },
    [store],
  );
  return { ready: !!store, write };
}

export type { SyncCheckpoint };

type QueryLike<T> = { isPending: boolean; isError: boolean; error: unknown; data: T | undefined };

/** True when screens must ask the server directly (this browser keeps no local store): enables their online queries. */
export function useServerOnly(): boolean {
  return useSync().unavailable;
}

/**
 * A screen's list, read from the local store when it is open (live, and there offline), else from the online
 * query (give it `enabled: useServerOnly()`); shaped like the online query's result so the screen stays as it was.
 */
export function useLocalFirst<T, D>(
  name: CollectionName,
  online: QueryLike<T>,
  toData: (docs: D[]) => T,
  selector?: Record<string, unknown>,
  sort?: Record<string, "asc" | "desc">[],
): QueryLike<T> {
  const sync = useSync();
  const docs = useLocalDocs<D>(name, selector, sort);
  const data = useMemo(() => (docs ? toData(docs) : undefined), [docs]); // eslint-disable-line react-hooks/exhaustive-deps
  if (sync.unavailable) return online;
  return { isPending: data === undefined, isError: false, error: null, data };
}

/**
 * An action (Deploy, Disable, Save settings) as an outbox entry when the store is open, else the online mutation.
 * `error` holds the server's refusal; `variables` the input while it runs.
 */
export function useOutboxAction<I extends Record<string, unknown>>(
  kind: OutboxKind,
  online: { mutate: (input: I) => void; isPending: boolean; error: unknown; variables?: I },
  onDone?: (outcome: OutboxOutcome) => void,
): { mutate: (input: I) => void; isPending: boolean; error: unknown; variables?: I } {
  const outbox = useOutbox();
  const { dismiss } = useSync();
  const [state, setState] = useState<{ variables?: I; error: unknown }>({ error: null });
  if (!outbox.ready) return online;
  return {
    isPending: state.variables !== undefined,
    error: state.error,
    variables: state.variables,
    mutate: (input: I) => {
      setState({ variables: input, error: null });
      outbox
        .write(kind, input)
        .then((outcome) => {
          if (outcome.status === "refused") {
            dismiss(outcome.entry.id);
            setState({ error: new Error(outcome.message ?? "The server refused this change.") });
          } else setState({ error: null });
          onDone?.(outcome);
        })
        .catch((e: unknown) => setState({ error: e }));
    },
  };
}
