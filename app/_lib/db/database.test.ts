// The local store's pull of the read-only collections, against a fake server: pages to the end, tombstones,
// changes pulled again on top of stored documents, the checkpoint kept for the next visit, first pages asked for early.
import { afterEach, describe, expect, it } from "vitest";
import type { RxStorage } from "rxdb/plugins/core";
import { getRxStorageMemory } from "rxdb/plugins/storage-memory";
import { getRxStorageDexie } from "rxdb/plugins/storage-dexie";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { checkpointAfter, compareCheckpoints, isAfterCheckpoint, newOutboxEntry, outboxJsonSchema, requestJsonSchema, SYNC_PULL_LIMIT_MAX, type Checkpoint } from "../../../core/sync";
import type { CollectionName, SyncApi } from "./contract";
import { createRxDatabase } from "rxdb/plugins/core";
import { databaseName, openStore, type OpenStore } from "./database";

type Doc = { id: string; updatedAt: string; _deleted: boolean; name: string; status: string };

/** A server holding documents per collection, answering pulls as core/sync says: oldest stamp first, after the checkpoint. */
function fakeServer() {
  const docs = new Map<CollectionName, Doc[]>();
  let clock = Date.parse("2026-01-01T00:00:00Z");
  const pulls: { collection: CollectionName; checkpoint: Checkpoint | null; limit: number }[] = [];
  let failing = false;
  /** Called after each page is served (a test changes documents mid-pull with it). */
  let served: (n: number) => void = () => {};
  const api: SyncApi = {
    pull: async ({ collection, checkpoint, limit }) => {
      pulls.push({ collection, checkpoint: checkpoint ?? null, limit });
      if (failing) throw new Error("network down");
      const page = (docs.get(collection) ?? [])
        .filter((d) => isAfterCheckpoint(d, checkpoint ?? null))
        .sort(compareCheckpoints)
        .slice(0, limit);
      const res = { documents: page.map((d) => ({ ...d })), checkpoint: checkpointAfter(page, checkpoint ?? null) };
      served(pulls.length);
      return res;
    },
    push: async () => [],
  };
  return {
    api,
    pulls,
    fail: (on: boolean) => (failing = on),
    afterPage: (f: (n: number) => void) => (served = f),
    /** Writes (or deletes) documents, stamping each after the last. */
    put(collection: CollectionName, ...changes: Omit<Doc, "updatedAt" | "_deleted">[] | { id: string; deleted: true }[]) {
      const list = docs.get(collection) ?? [];
      for (const c of changes) {
        const updatedAt = new Date(++clock).toISOString();
        const i = list.findIndex((d) => d.id === c.id);
        const next: Doc = "deleted" in c ? { ...list[i]!, updatedAt, _deleted: true } : { ...c, updatedAt, _deleted: false };
        if (i >= 0) list[i] = next;
        else list.push(next);
      }
      docs.set(collection, list);
    },
  };
}

const storage = getRxStorageMemory();
const open: OpenStore[] = [];
async function start(user: string, api: SyncApi, readable: CollectionName[], first?: Map<CollectionName, ReturnType<SyncApi["pull"]>>, use: RxStorage<unknown, unknown> = storage) {
  const store = await openStore(user, api, readable, { storage: use, first });
  open.push(store);
  return store;
}
const names = async (store: OpenStore, collection: CollectionName) =>
  (await store.db[collection].find({ sort: [{ id: "asc" }] }).exec()).map((d) => d.get("name") as string);
async function until(check: () => Promise<boolean>) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("timed out");
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.remove();
});

describe("the pull of read-only collections", () => {
  it("pulls every page to the end, without the tombstones, and says when it has caught up", async () => {
    const server = fakeServer();
    const many = Array.from({ length: SYNC_PULL_LIMIT_MAX * 2 + 5 }, (_, i) => ({ id: `r${String(i).padStart(5, "0")}`, name: `R${i}`, status: "pending" }));
    server.put("requests", ...many);
    server.put("policies", { id: "p1", name: "Build tools", status: "draft" }, { id: "p2", name: "Gone", status: "draft" });
    server.put("policies", { id: "p2", deleted: true });

    const store = await start("pull-all", server.api, ["requests", "policies"]);
    await store.caughtUp;

    expect(await store.db.requests.count().exec()).toBe(many.length);
    expect(await names(store, "policies")).toEqual(["Build tools"]);
    const requestPulls = server.pulls.filter((p) => p.collection === "requests");
    expect(requestPulls).toHaveLength(3);
    expect(requestPulls.every((p) => p.limit === SYNC_PULL_LIMIT_MAX)).toBe(true);
    expect(requestPulls[0]!.checkpoint).toBeNull();
    expect(requestPulls[1]!.checkpoint).toMatchObject({ id: "r00999" });
  });

  it("writes later changes and deletions on top of the stored documents when asked to resync", async () => {
    const server = fakeServer();
    server.put("policies", { id: "p1", name: "One", status: "draft" }, { id: "p2", name: "Two", status: "draft" });
    const store = await start("resync", server.api, ["policies"]);
    await store.caughtUp;
    expect(await names(store, "policies")).toEqual(["One", "Two"]);

    server.put("policies", { id: "p1", name: "One, edited", status: "deployed" }, { id: "p3", name: "Three", status: "draft" });
    server.put("policies", { id: "p2", deleted: true });
    store.resync("policies");
    await until(async () => (await names(store, "policies")).join() === "One, edited,Three");
    expect((await store.db.policies.findOne("p1").exec())?.get("status")).toBe("deployed");
    // From where the last pull ended: only the changes came again.
    expect(server.pulls.at(-1)?.checkpoint).not.toBeNull();
  });

  it("keeps the checkpoint for the next visit and goes on from it", async () => {
    const server = fakeServer();
    server.put("policies", { id: "p1", name: "One", status: "draft" });
    const first = await start("resume", server.api, ["policies"]);
    await first.caughtUp;
    await until(async () => (await first.db.checkpoints.findOne("policies@1").exec()) !== null);
    await first.close();
    open.splice(open.indexOf(first), 1);

    server.put("policies", { id: "p2", name: "Two", status: "draft" });
    server.pulls.length = 0;
    const again = await start("resume", server.api, ["policies"]);
    await again.caughtUp;
    expect(server.pulls[0]?.checkpoint).toMatchObject({ id: "p1" });
    expect(await names(again, "policies")).toEqual(["One", "Two"]);
  });

  it("uses a first page asked for before the store opened, and does not ask for it again", async () => {
    const server = fakeServer();
    server.put("policies", { id: "p1", name: "One", status: "draft" });
    const early = server.api.pull({ collection: "policies", checkpoint: null, limit: SYNC_PULL_LIMIT_MAX });
    const store = await start("first-pages", server.api, ["policies"], new Map([["policies", early]]));
    await store.caughtUp;
    expect(await names(store, "policies")).toEqual(["One"]);
    expect(server.pulls.filter((p) => p.checkpoint === null)).toHaveLength(1);
  });

  it("reports a failed pull and catches up on the next resync", async () => {
    const server = fakeServer();
    server.put("policies", { id: "p1", name: "One", status: "draft" });
    server.fail(true);
    const store = await start("failing", server.api, ["policies"]);
    const errors: unknown[] = [];
    store.error$.subscribe((e) => errors.push(e));
    await until(async () => errors.length > 0);
    expect(String(errors[0])).toContain("network down");

    server.fail(false);
    store.resync();
    await store.caughtUp;
    expect(await names(store, "policies")).toEqual(["One"]);
  });

  it("a new IndexedDB store adds its pages without reading first; documents changed mid-pull end newest", { timeout: 30_000 }, async () => {
    // RxDB's Dexie storage over an in-memory IndexedDB: the path a fresh console takes (pages added without reading).
    const dexie = getRxStorageDexie({ indexedDB: new IDBFactory(), IDBKeyRange });
    const server = fakeServer();
    const id = (i: number) => `r${String(i).padStart(5, "0")}`;
    const N = SYNC_PULL_LIMIT_MAX;
    server.put("requests", ...Array.from({ length: N * 2 }, (_, i) => ({ id: id(i), name: `R${i}`, status: "pending" })));
    // A document of page 1 changes once page 1 is served, one of page 2 once page 2 is: both come again, newer, in
    // page 3, which cannot be added as new (pages 1 and 2 stored them) and is written on top.
    server.afterPage((n) => {
      if (n === 1) server.put("requests", { id: id(5), name: "page 1's, changed", status: "approved" });
      if (n === 2) server.put("requests", { id: id(N + 5), name: "page 2's, changed", status: "approved" });
    });
    const store = await start("fresh-dexie", server.api, ["requests"], undefined, dexie);
    await store.caughtUp;

    // (Counted by a find: count() would use an index on createdAt, which these test documents do not have.)
    expect((await store.db.requests.find().exec()).length).toBe(N * 2);
    const doc = async (i: number) => (await store.db.requests.findOne(id(i)).exec())?.toJSON();
    expect(await doc(5)).toMatchObject({ name: "page 1's, changed", status: "approved" });
    expect(await doc(N + 5)).toMatchObject({ name: "page 2's, changed", status: "approved" });
    expect(await doc(N * 2 - 1)).toMatchObject({ name: `R${N * 2 - 1}`, status: "pending" });
    expect((await store.db.requests.find({ selector: { status: "approved" } }).exec()).length).toBe(2);
  });

  it("after an upgrade that changed a collection's indexes, it is pulled from the start into a new store; the outbox stays", { timeout: 30_000 }, async () => {
    const indexedDB = new IDBFactory();
    const dexie = getRxStorageDexie({ indexedDB, IDBKeyRange });
    // The store as an earlier console left it: requests at schema version 0 (more indexes), a checkpoint at its end,
    // and an approval still waiting to sync.
    const old = await createRxDatabase({ name: databaseName("upgrade"), storage: dexie, multiInstance: false });
    const was = await old.addCollections({
      requests: { schema: { ...requestJsonSchema, version: 0, indexes: [["updatedAt"], ["status", "updatedAt"], ["status", "createdAt"]] } as never },
      outbox: { schema: outboxJsonSchema as never },
      checkpoints: { schema: { version: 0, primaryKey: "id", type: "object", properties: { id: { type: "string", maxLength: 40 }, updatedAt: { type: "string" }, docId: { type: "string" } }, required: ["id", "updatedAt", "docId"] } },
    });
    await was.requests.insert({ id: "r-old", name: "Old", status: "pending", updatedAt: "2026-01-01T00:00:00.000Z" });
    await was.checkpoints.insert({ id: "requests", updatedAt: "2099-01-01T00:00:00.000Z", docId: "zzz" });
    const { _deleted, ...waiting } = newOutboxEntry("entry-1", "request.approve", { id: "r1" }, new Date());
    await was.outbox.insert(waiting);
    await old.close();
    const before = (await indexedDB.databases()).map((d) => d.name);
    expect(before).toContain(`rxdb-dexie-${databaseName("upgrade")}--0--requests`);

    const server = fakeServer();
    server.put("requests", { id: "r1", name: "One", status: "pending" }, { id: "r2", name: "Two", status: "approved" });
    const store = await start("upgrade", server.api, ["requests", "outbox"], undefined, dexie);
    await store.caughtUp;
    expect(server.pulls.find((p) => p.collection === "requests")?.checkpoint).toBeNull();
    expect(await names(store, "requests")).toEqual(["One", "Two"]);
    expect((await store.db.outbox.findOne("entry-1").exec())?.get("kind")).toBe("request.approve");
    // The old version's database is gone.
    await until(async () => !(await indexedDB.databases()).some((d) => d.name === `rxdb-dexie-${databaseName("upgrade")}--0--requests`));
  });
});
