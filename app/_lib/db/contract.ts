// What the console's store takes from the sync contract (core/sync.ts): the collections with their RxDB
// schemas, the checkpoint, the outbox entry, and the pull / push procedures as a small interface.
import {
  SYNC_COLLECTIONS,
  SYNC_JSON_SCHEMAS,
  type Checkpoint,
  type OutboxEntry,
  type OutboxKind,
  type PullInput,
  type PushInput,
  type RequestDoc,
  type SyncCollection,
} from "../../../core/sync";

export type { OutboxEntry, OutboxKind, RequestDoc };
export type SyncCheckpoint = Checkpoint;
export type CollectionName = SyncCollection;

export const COLLECTIONS = SYNC_COLLECTIONS.map((name) => ({ name, pushable: name === "outbox", schema: SYNC_JSON_SCHEMAS[name] }));

export type SyncApi = {
  pull(input: PullInput & { limit: number }): Promise<{ documents: unknown[]; checkpoint: SyncCheckpoint | null }>;
  push(input: PushInput): Promise<unknown[]>;
};
