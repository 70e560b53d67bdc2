// The change feed: who must wake up when something changes (bundle long-polls, console streams).
// In one process it is an EventEmitter; the PostgreSQL LISTEN/NOTIFY one (change-feed-pg.ts) is for several servers.
import { EventEmitter } from "node:events";

export type Change =
  | { kind: "bundle"; computerIds: string[] | "all" }
  | { kind: "policies" }
  | { kind: "computers" }
  | { kind: "requests"; ids: string[] }
  /** Replicated collections were stamped (server/services/sync-stamps.ts): console stores pull them again. */
  | { kind: "sync"; collections: string[] }
  /** Changes may have been missed (the PostgreSQL feed lost its connection): every stream looks again. */
  | { kind: "resync" };

export interface ChangeFeed {
  publish(change: Change): void;
  subscribe(listener: (change: Change) => void): () => void;
}

export function createInProcessChangeFeed(): ChangeFeed {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: (change) => void emitter.emit("change", change),
    subscribe(listener) {
      emitter.on("change", listener);
      return () => void emitter.off("change", listener);
    },
  };
}
