// The console's local store: one RxDB database (IndexedDB through Dexie) per signed-in console user, kept in step
// with the server over tRPC. Loaded with a dynamic import, so the first paint never waits for RxDB.
// The read-only collections are pulled by a plain checkpointed loop that writes each page straight into the
// collection's storage (RxDB's replication would also write a meta document per pulled document, which doubles a
// first load's writes), the next page on its way while one is written; only the outbox, which is pushed, uses RxDB's
// replication. bench/sync measures a first load (10,000 requests).
import { createRxDatabase, removeRxDatabase, type RxCollection, type RxDatabase, type RxJsonSchema, type RxStorage } from "rxdb/plugins/core";
import { replicateRxCollection, type RxReplicationState } from "rxdb/plugins/replication";
import { fromStorageToDexie, getRxStorageDexie } from "rxdb/plugins/storage-dexie";
import { map, Subject, type Observable } from "rxjs";
import { EVENTS_WINDOW, SYNC_PULL_LIMIT_MAX } from "../../../core/sync";
import { COLLECTIONS, type CollectionName, type OutboxEntry, type SyncApi, type SyncCheckpoint } from "./contract";

export type LocalDatabase = RxDatabase<Record<CollectionName, RxCollection> & { checkpoints: RxCollection }>;

export type OpenStore = {
  db: LocalDatabase;
  /** A page of documents of this collection has been written. */
  received$: Subject<CollectionName>;
  /** A pull or push failed (it is retried in a moment, or when the network returns). */
  error$: Subject<unknown>;
  /** This person's outbox, live, in the order the changes were made. */
  outbox$: Observable<OutboxEntry[]>;
  /** Resolves once every readable collection has pulled everything there was when the store opened. */
  caughtUp: Promise<void>;
  /** Ask every collection (or one) to pull now, e.g. when the change stream says something changed. */
  resync: (name?: CollectionName) => void;
  close: () => Promise<void>;
  /** Stops syncing, closes and deletes the database (sign-out). */
  remove: () => Promise<void>;
};

/** Documents per pull (a page this full means there may be more). */
const PULL_BATCH = SYNC_PULL_LIMIT_MAX;
/** After a failed pull or push, try again this much later (or when the network returns, if offline). */
const RETRY_MS = 3_000;

/** User Timing marks (bench/sync reads them with BENCH_DEBUG=1). */
const mark = (name: string, detail?: unknown) => performance.mark(`jit-sync:${name}`, { detail });

/** RxDB names allow lower-case letters, digits, `_`, `$` and `-`, starting with a letter. */
export function databaseName(userId: string): string {
  return `jit-console-${userId.toLowerCase().replace(/[^a-z0-9_$-]/g, "-")}`;
}

const storage = () => getRxStorageDexie();

/** Where each collection's pull continues: one local-only document per collection, id = its name (`name@version` from version 1). */
const checkpointSchema: RxJsonSchema<{ id: string; updatedAt: string; docId: string }> = {
  version: 0,
  primaryKey: "id",
  type: "object",
  properties: { id: { type: "string", maxLength: 40 }, updatedAt: { type: "string" }, docId: { type: "string" } },
  required: ["id", "updatedAt", "docId"],
};

/** RxDB's Dexie storage empties its IndexedDB databases on remove; this deletes them too, so nothing is left. */
async function deleteIndexedDbs(userId: string): Promise<void> {
  if (typeof indexedDB === "undefined" || typeof indexedDB.databases !== "function") return;
  const prefix = `rxdb-dexie-${databaseName(userId)}--`;
  const names = (await indexedDB.databases()).map((d) => d.name ?? "").filter((n) => n.startsWith(prefix));
  await Promise.all(
    names.map(
      (name) =>
        new Promise<void>((resolve) => {
          const req = indexedDB.deleteDatabase(name);
          req.onsuccess = req.onerror = req.onblocked = () => resolve();
        }),
    ),
  );
}

/** Deletes the IndexedDB databases of collections' earlier schema versions (their documents were pulled again into the new one). */
function deleteOldVersions(userId: string, used: RxStorage<unknown, unknown>): void {
  if (used.name !== "dexie") return;
  const idb = (used as { settings?: { indexedDB?: IDBFactory } }).settings?.indexedDB ?? globalThis.indexedDB;
  for (const { name, schema } of COLLECTIONS) {
    for (let v = 0; v < schema.version; v++) idb?.deleteDatabase(`rxdb-dexie-${databaseName(userId)}--${v}--${name}`);
  }
}

export async function removeDatabase(userId: string): Promise<void> {
  await removeRxDatabase(databaseName(userId), storage());
  await deleteIndexedDbs(userId);
}

type Page = Awaited<ReturnType<SyncApi["pull"]>>;
/** First pages asked for before the store opened (from the beginning): used when the store has no checkpoint yet. */
export type FirstPages = ReadonlyMap<CollectionName, Promise<Page>>;

/** A document as the server sends it (core/sync: every one has its id, its stamp and the tombstone flag). */
type PulledDoc = Record<string, unknown> & { id: string; _deleted: boolean };

type Row = { document: Record<string, unknown>; previous?: Record<string, unknown> };

/**
 * Writes pulled documents (tombstones included: `_deleted: true`) into a collection's storage in one bulk write per
 * attempt. New ones are inserted; one already stored comes back as a conflict with the stored version, and is
 * written again on top of it. The collection's live queries see the writes as usual.
 */
async function writePulled(collection: RxCollection, documents: Record<string, unknown>[]): Promise<void> {
  // _meta and _rev are set by RxDB's storage wrapper (a new revision on top of `previous`).
  let rows: Row[] = documents.map((d) => ({ document: { ...d, _attachments: {}, _meta: { lwt: 0 }, _rev: "" } }));
  for (let attempt = 0; rows.length > 0; attempt++) {
    if (attempt === 5) throw new Error(`Could not store ${rows.length} ${collection.name}: they kept changing locally.`);
    const { error } = await collection.storageInstance.bulkWrite(rows as never, "jit-pull");
    rows = error.map((e) => {
      if (e.status !== 409 || !e.documentInDb) throw new Error(`Could not store ${collection.name} ${e.documentId} (${e.status}).`);
      return { previous: e.documentInDb as Row["previous"], document: e.writeRow.document as Row["document"] };
    });
  }
}

/** What RxDB's Dexie storage keeps behind a collection (its internals: only the first pull of a new store uses them). */
type DexieInstance = {
  internals?: Promise<{ dexieDb: { transaction: (mode: "rw", table: unknown, fn: () => Promise<unknown>) => Promise<unknown> }; dexieTable: { bulkAdd: (docs: unknown[]) => Promise<unknown> }; booleanIndexes: string[] }>;
  changes$?: Subject<unknown>;
};

let bulkId = 0;
/**
 * The first pull of a new store: a page of documents the store has never held is added to IndexedDB in one
 * transaction, without reading first (RxDB's own write reads every document before writing it), and announced
 * to the collection as RxDB announces an insert, so live queries see it. Returns false, having written nothing,
 * when any of them is already there (or the storage is not Dexie): the caller then writes the page the usual way.
 */
async function addNew(db: LocalDatabase, collection: RxCollection, documents: PulledDoc[]): Promise<boolean> {
  const instance = (collection.storageInstance as unknown as { originalStorageInstance?: DexieInstance }).originalStorageInstance;
  if (!instance?.internals || !instance.changes$) return false;
  const state = await instance.internals;
  if (!state?.dexieTable) return false;
  const lwt = Date.now();
  const stored = documents.map((d): PulledDoc => ({ ...d, _attachments: {}, _meta: { lwt }, _rev: `1-${db.token}` }));
  try {
    // bulkAdd fails on a key already there, and the failure aborts the transaction: all or nothing.
    await state.dexieDb.transaction("rw", state.dexieTable, () => state.dexieTable.bulkAdd(stored.map((d) => fromStorageToDexie(state.booleanIndexes, d as never))));
  } catch {
    return false;
  }
  const last = stored[stored.length - 1]!;
  instance.changes$.next({
    id: `jit-pull-${++bulkId}`,
    context: "jit-pull",
    checkpoint: { id: last.id, lwt },
    events: stored.filter((d) => !d._deleted).map((d) => ({ documentId: d.id, operation: "INSERT", documentData: d, previousDocumentData: undefined })),
  });
  return true;
}

/** One read-only collection's pull: from its stored checkpoint to the end, in pages, the next page fetched while one is written. */
function puller(
  db: LocalDatabase,
  name: CollectionName,
  api: SyncApi,
  received$: Subject<CollectionName>,
  error$: Subject<unknown>,
  first: Promise<Page> | undefined,
) {
  let checkpoint: SyncCheckpoint | null | undefined; // undefined: not read from the store yet
  let running = false;
  let again = false;
  let stopped = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let saving: Promise<void> = Promise.resolve();
  let caughtUp!: () => void;
  const initial = new Promise<void>((resolve) => (caughtUp = resolve));

  const page = (from: SyncCheckpoint | null) => {
    const p = from === null && first ? first : api.pull({ collection: name, checkpoint: from, limit: PULL_BATCH });
    p.catch(() => undefined); // awaited below; this only keeps an abandoned prefetch from being reported as unhandled
    return p;
  };

  // Per schema version: a collection whose schema changed has a new, empty store to pull from the start.
  const version = db[name].schema.version;
  const checkpointId = version ? `${name}@${version}` : name;

  async function toEnd(): Promise<void> {
    if (checkpoint === undefined) {
      const stored = (await db.checkpoints.findOne(checkpointId).exec())?.toJSON() as { updatedAt: string; docId: string } | undefined;
      checkpoint = stored ? { updatedAt: stored.updatedAt, id: stored.docId } : null;
    }
    // A store that has never pulled this collection holds none of it: its pages can be added without reading first.
    let fresh = checkpoint === null;
    let next = page(checkpoint);
    first = undefined;
    for (;;) {
      const res = await next;
      if (stopped) return;
      const to: SyncCheckpoint | null = res.checkpoint ?? checkpoint;
      const more = res.documents.length >= PULL_BATCH;
      if (more) next = page(to);
      if (res.documents.length > 0 && to) {
        mark(`pulled ${name}`, res.documents.length);
        const documents = res.documents as PulledDoc[];
        fresh = fresh && (await addNew(db, db[name], documents));
        if (!fresh) await writePulled(db[name], documents);
        checkpoint = to;
        // Kept for the next visit; this visit goes on from `checkpoint` without waiting for it (one write at a time).
        saving = saving
          .then(() => writePulled(db.checkpoints, [{ id: checkpointId, updatedAt: to.updatedAt, docId: to.id, _deleted: false }]))
          .catch((e: unknown) => void (stopped || error$.next(e)));
        mark(`written ${name}`, res.documents.length);
        received$.next(name);
      }
      if (!more) return;
    }
  }

  async function run(): Promise<void> {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    clearTimeout(retryTimer);
    try {
      do {
        again = false;
        await toEnd();
        // Everything there was when the store opened is here (a change since is pulled by the next round).
        mark(`caught up ${name}`);
        caughtUp();
        await saving;
      } while (again && !stopped);
    } catch (e) {
      if (stopped) return;
      error$.next(e);
      // Offline: the console pulls again when the network returns (resync); online: in a moment.
      if (typeof navigator === "undefined" || navigator.onLine) retryTimer = setTimeout(() => void run(), RETRY_MS);
    } finally {
      running = false;
    }
  }

  return {
    run: () => void run(),
    initial,
    stop: () => {
      stopped = true;
      clearTimeout(retryTimer);
    },
  };
}

export type OpenOptions = {
  first?: FirstPages;
  /** IndexedDB through Dexie unless given (tests use RxDB's memory storage). */
  storage?: RxStorage<unknown, unknown>;
};

export async function openStore(userId: string, api: SyncApi, readable: readonly CollectionName[], options: OpenOptions = {}): Promise<OpenStore> {
  mark("open");
  let { first } = options;
  const used = options.storage ?? storage();
  const db = (await createRxDatabase({
    name: databaseName(userId),
    storage: used,
    // One tab syncs for itself; cross-tab events are not needed for a console.
    multiInstance: false,
    eventReduce: true,
    closeDuplicates: true,
  })) as LocalDatabase;
  await db.addCollections({
    ...Object.fromEntries(
      COLLECTIONS.map((c) => [
        c.name,
        // A new schema version is a new, empty store, pulled from the start (its checkpoint is per version): nothing
        // is migrated from the old one, whose database is deleted once caught up.
        { schema: c.schema as RxJsonSchema<Record<string, unknown>>, autoMigrate: false },
      ]),
    ),
    checkpoints: { schema: checkpointSchema },
  });
  mark("collections");

  // Awaited by the pulls below; this only keeps one that fails before then from being reported as unhandled.
  for (const p of first?.values() ?? []) p.catch(() => undefined);
  const received$ = new Subject<CollectionName>();
  const error$ = new Subject<unknown>();
  const pullers = new Map<CollectionName, ReturnType<typeof puller>>();
  let outbox: RxReplicationState<Record<string, unknown>, SyncCheckpoint> | null = null;
  for (const { name, pushable } of COLLECTIONS) {
    if (!readable.includes(name)) continue;
    if (!pushable) {
      pullers.set(name, puller(db, name, api, received$, error$, first?.get(name)));
      continue;
    }
    // The outbox is written here and pushed; its pull brings back the server's outcome of each entry.
    outbox = replicateRxCollection<Record<string, unknown>, SyncCheckpoint>({
      collection: db[name],
      replicationIdentifier: `jit-sync-${name}`,
      live: true,
      retryTime: RETRY_MS,
      waitForLeadership: false,
      autoStart: true,
      pull: {
        batchSize: PULL_BATCH,
        handler: async (checkpoint, batchSize) => {
          const early = checkpoint ? undefined : first?.get(name);
          first = undefined;
          const res = await (early ?? api.pull({ collection: name, checkpoint: checkpoint ?? null, limit: batchSize }));
          return { documents: res.documents as never, checkpoint: res.checkpoint ?? checkpoint };
        },
      },
      push: {
        batchSize: 20,
        handler: async (rows) => (await api.push({ collection: "outbox", rows: rows as never })) as never,
      },
    });
    outbox.error$.subscribe((e) => error$.next(e.parameters?.errors?.[0] ?? e));
  }
  for (const p of pullers.values()) p.run();

  // The events collection keeps the newest EVENTS_WINDOW: older ones are dropped here (pull-only, so only here).
  let pruning = false;
  received$.subscribe((name) => {
    if (name !== "events" || pruning) return;
    pruning = true;
    setTimeout(() => {
      void db.events
        .find({ sort: [{ seq: "desc" }], skip: EVENTS_WINDOW })
        .remove()
        .catch(() => undefined)
        .finally(() => (pruning = false));
    }, 1_000);
  });

  const caughtUp = Promise.all([...[...pullers.values()].map((p) => p.initial), outbox?.awaitInitialReplication()]).then(() => undefined);
  // An earlier schema version's database goes once this one has caught up (not while the first pull writes).
  void caughtUp.then(() => deleteOldVersions(userId, used)).catch(() => undefined);

  const resync = (name?: CollectionName) => {
    for (const [n, p] of pullers) if (!name || n === name) p.run();
    if (!name || name === "outbox") outbox?.reSync();
  };
  const stop = async () => {
    for (const p of pullers.values()) p.stop();
    await outbox?.cancel();
  };
  return {
    db,
    received$,
    error$,
    outbox$: db.outbox
      .find({ sort: [{ id: "asc" }] })
      .$.pipe(map((docs) => docs.map((d) => d.toJSON(true) as unknown as OutboxEntry).sort((a, b) => a.clientAt.localeCompare(b.clientAt)))),
    caughtUp,
    resync,
    close: async () => {
      await stop();
      if (!db.closed) await db.close();
    },
    remove: async () => {
      await stop();
      await db.remove();
      await deleteIndexedDbs(userId);
    },
  };
}
