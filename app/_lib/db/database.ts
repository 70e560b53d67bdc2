// The console's local store: one RxDB database (IndexedDB through Dexie) per signed-in console user, with one
// replication per collection over tRPC. Loaded with a dynamic import, so the first paint never waits for RxDB.
import { createRxDatabase, removeRxDatabase, type RxCollection, type RxDatabase, type RxJsonSchema } from "rxdb/plugins/core";
import { replicateRxCollection, type RxReplicationState } from "rxdb/plugins/replication";
import { getRxStorageDexie } from "rxdb/plugins/storage-dexie";
import { Subject } from "rxjs";
import { COLLECTIONS, type CollectionName, type SyncApi, type SyncCheckpoint } from "./contract";

export type LocalDatabase = RxDatabase<Record<CollectionName, RxCollection>>;

export type OpenStore = {
  db: LocalDatabase;
  /** One per collection this person's role may read (the rest stay empty). */
  replications: Partial<Record<CollectionName, RxReplicationState<Record<string, unknown>, SyncCheckpoint>>>;
  /** Ask every collection (or one) to pull now, e.g. when the change stream says something changed. */
  resync: (name?: CollectionName) => void;
  close: () => Promise<void>;
  /** Stops replicating, closes and deletes the database (sign-out). */
  remove: () => Promise<void>;
};

/** RxDB names allow lower-case letters, digits, `_`, `$` and `-`, starting with a letter. */
export function databaseName(userId: string): string {
  return `jit-console-${userId.toLowerCase().replace(/[^a-z0-9_$-]/g, "-")}`;
}

const storage = () => getRxStorageDexie();

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

export async function removeDatabase(userId: string): Promise<void> {
  await removeRxDatabase(databaseName(userId), storage());
  await deleteIndexedDbs(userId);
}

export async function openStore(userId: string, api: SyncApi, readable: readonly CollectionName[]): Promise<OpenStore> {
  const db = (await createRxDatabase({
    name: databaseName(userId),
    storage: storage(),
    // One tab replicates for itself; cross-tab events are not needed for a console.
    multiInstance: false,
    eventReduce: true,
    closeDuplicates: true,
  })) as LocalDatabase;
  await db.addCollections(
    Object.fromEntries(COLLECTIONS.map((c) => [c.name, { schema: c.schema as RxJsonSchema<Record<string, unknown>> }])) as Record<
      CollectionName,
      { schema: RxJsonSchema<Record<string, unknown>> }
    >,
  );

  const streams = new Map<CollectionName, Subject<"RESYNC">>();
  const replications = {} as OpenStore["replications"];
  for (const { name, pushable } of COLLECTIONS) {
    if (!readable.includes(name)) continue;
    const stream = new Subject<"RESYNC">();
    streams.set(name, stream);
    replications[name] = replicateRxCollection<Record<string, unknown>, SyncCheckpoint>({
      collection: db[name],
      replicationIdentifier: `jit-sync-${name}`,
      live: true,
      retryTime: 3_000,
      waitForLeadership: false,
      autoStart: true,
      pull: {
        batchSize: 1_000,
        handler: async (checkpoint, batchSize) => {
          const res = await api.pull({ collection: name, checkpoint: checkpoint ?? null, limit: batchSize });
          return { documents: res.documents as never, checkpoint: res.checkpoint ?? checkpoint };
        },
        stream$: stream.asObservable(),
      },
      push: pushable
        ? {
            batchSize: 20,
            handler: async (rows) => (await api.push({ collection: "outbox", rows: rows as never })) as never,
          }
        : undefined,
    });
  }

  const resync = (name?: CollectionName) => {
    for (const [n, s] of streams) if (!name || n === name) s.next("RESYNC");
  };
  return {
    db,
    replications,
    resync,
    close: async () => {
      await Promise.all(Object.values(replications).map((r) => r?.cancel()));
      if (!db.closed) await db.close();
    },
    remove: async () => {
      await Promise.all(Object.values(replications).map((r) => r?.cancel()));
      await db.remove();
      await deleteIndexedDbs(userId);
    },
  };
}
