// The part of the sync contract (core/sync.ts) the console's shell needs before its store loads: the collection
// names, the page limit, which collections a role replicates, and a new outbox entry. No schemas here, so the
// first-load JS of every console page stays small; core/sync.ts re-exports all of it.
import type { OutboxEntry, OutboxKind, OutboxPayload } from "./sync";
import type { Permission, Role } from "./roles";
import { can } from "./roles";

export const SYNC_COLLECTIONS = ["policies", "allowlist", "requests", "computers", "events", "settings", "outbox"] as const;
export type SyncCollection = (typeof SYNC_COLLECTIONS)[number];

/** A pull returns at most this many documents. */
export const SYNC_PULL_LIMIT_MAX = 1000;

/**
 * Who may replicate what: the one place a role's view of the data is decided. Outbox entries are each
 * person's own (the server filters them by owner); every role reads the rest today.
 */
const PULL_PERMISSION: Record<SyncCollection, Permission | "self"> = {
  policies: "policies.read",
  allowlist: "policies.read",
  requests: "events.read",
  computers: "computers.read",
  events: "events.read",
  settings: "policies.read",
  outbox: "self",
};
export function canPull(role: Role, collection: SyncCollection): boolean {
  const p = PULL_PERMISSION[collection];
  return p === "self" || can(role, p);
}
export function collectionsFor(role: Role): SyncCollection[] {
  return SYNC_COLLECTIONS.filter((c) => canPull(role, c));
}

/** A new local entry, waiting to sync (the server restamps `updatedAt`). */
export function newOutboxEntry<K extends OutboxKind>(id: string, kind: K, payload: OutboxPayload<K>, clientAt: Date): OutboxEntry {
  const at = clientAt.toISOString();
  return { id, kind, payload: payload as Record<string, unknown>, clientAt: at, status: "waiting", message: null, serverAt: null, result: null, updatedAt: at, _deleted: false };
}
