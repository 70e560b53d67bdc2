"use client";
// One document by id for a detail page (a request, a policy, a computer): read from the local store when it is open
// (live, and there offline), else from the page's online query. Only the detail routes import this, so it stays out
// of the lists' first-load bundle.
import { useSync, useLocalDocs } from "./sync-provider";
import type { CollectionName } from "./contract";
import { errorCode } from "../errors";

const NOT_HERE = "This device has no copy of it, and the server cannot be reached: it opens once the network is back.";

type QueryLike<T> = { isPending: boolean; isError: boolean; error: unknown; data: T | undefined };

/**
 * The document with this id in the local store: `undefined` while the store opens, `null` when it has no such
 * document. `askServer` says when the page should enable its online query: this browser keeps no store, or the
 * store does not hold the document (older than what it keeps, or not pulled yet).
 */
export function useLocalDoc<D>(name: CollectionName, id: string): { doc: D | null | undefined; askServer: boolean } {
  const sync = useSync();
  const docs = useLocalDocs<D>(name, { id }, undefined, 1, !sync.unavailable);
  const doc = sync.unavailable || docs === undefined ? undefined : (docs[0] ?? null);
  return { doc, askServer: sync.unavailable || doc === null };
}

/**
 * The page's view of the document: the local one when there is one, else the online query's answer. Offline (or
 * when the server cannot be reached), a document the store does not hold is an error that says so, rather than a
 * spinner while the online query waits for the network or a bare "Failed to fetch".
 */
export function localFirst<D, T>(
  local: { doc: D | null | undefined; askServer: boolean },
  toView: (doc: D) => T,
  online: QueryLike<T>,
  offline: boolean,
): QueryLike<T> {
  if (local.doc) return { isPending: false, isError: false, error: null, data: toView(local.doc) };
  const unreachable = offline || (online.isError && errorCode(online.error) === undefined);
  if (local.doc === null && unreachable) return { isPending: false, isError: true, error: new Error(NOT_HERE), data: undefined };
  if (local.askServer) return online;
  return { isPending: true, isError: false, error: null, data: undefined };
}
