// One bundle pull: ask the server (conditionally, optionally long-polling), check what it offers, store it if trusted.
// A refused bundle is never written; the last good one stays in force.
import { acceptBundle, type BundleRefusal } from "../core/bundle";
import { AgentHttpError, fetchBundle } from "./client";
import { withFailover } from "./servers";
import type { AgentConfig, StateStore, SyncState } from "./state";
import { ed25519Verifier, loadCachedBundle } from "./trusted-bundle";

export type SyncOutcome =
  | { status: "unchanged"; version: number | null }
  | { status: "applied"; version: number; previous: number | null }
  | { status: "refused"; refusal: BundleRefusal; offeredVersion: number | null; version: number | null };

export type SyncOptions = {
  /** Long-poll seconds (0 = answer at once). */
  wait: number;
  signal?: AbortSignal;
  now?: () => Date;
  /** Told when a server stopped answering and the next one is tried. */
  onFailover?: (from: string, error: AgentHttpError) => void;
};

/**
 * Pulls once and records the attempt in state.json. Returns what happened to the bundle; throws AgentHttpError
 * when the server could not be asked (network, timeout, 401, 5xx…), after recording that as the last error.
 */
export async function syncOnce(store: StateStore, config: AgentConfig, opts: SyncOptions): Promise<SyncOutcome> {
  const now = opts.now ?? (() => new Date());
  const cached = await loadCachedBundle(store, config, now());
  const held = cached.status === "trusted" ? cached.bundle : null;
  // A stale cached bundle is not offered as our version: if the server re-issued the same version with a fresh
  // validity, a conditional request would answer "unchanged" forever and the computer would stay locked out.
  const heldFresh = held && Date.parse(held.validUntil) > now().getTime() ? held : null;
  const previous = held?.version ?? null;

  let outcome: SyncOutcome;
  try {
    // With several servers, one that stops answering (even mid-long-poll) is left for the next at once.
    const fetched = await withFailover(
      config,
      (server) =>
        fetchBundle(server, {
          agentToken: config.agentToken,
          cachedVersion: heldFresh?.version ?? null,
          appliedVersion: previous,
          wait: opts.wait,
          signal: opts.signal,
        }),
      opts.onFailover,
    );
    outcome = fetched.status === "unchanged" ? { status: "unchanged", version: previous } : await applyOffered(store, config, fetched.envelope, previous, now());
  } catch (e) {
    if (e instanceof AgentHttpError && e.kind !== "aborted") {
      await recordAttempt(store, now(), { code: e.code ?? e.kind, message: e.message }).catch(() => {});
    }
    throw e;
  }
  await recordAttempt(store, now(), outcome.status === "refused" ? { code: `bundle_${outcome.refusal.code}`, message: `bundle refused: ${outcome.refusal.message}` } : null);
  return outcome;
}

async function applyOffered(store: StateStore, config: AgentConfig, envelope: unknown, previous: number | null, now: Date): Promise<SyncOutcome> {
  const trust = await store.loadTrust();
  const offeredVersion = versionOf(envelope);
  const result = acceptBundle(envelope, {
    verify: ed25519Verifier(config.publicKey),
    computerId: config.computer.id,
    lastTrustedVersion: trust?.highestVersion ?? null,
    now,
  });
  if ("refused" in result) return { status: "refused", refusal: result.refused, offeredVersion, version: previous };
  const version = result.bundle.version;
  // Store the envelope as received, not the parsed bundle: zod strips unknown fields and normalises values,
  // and the signature covers the bytes the server signed, so only the original re-verifies on the next read.
  const raw = envelope as { bundle: unknown; signature: string; keyId?: unknown };
  const stored = { bundle: raw.bundle, signature: raw.signature, ...(typeof raw.keyId === "string" ? { keyId: raw.keyId } : {}) };
  // Bundle first, then the rollback guard: a crash in between leaves a bundle newer than the guard (still
  // accepted), never a guard newer than the bundle (which would refuse our own cache until the next pull).
  await store.writeBundleEnvelope(stored);
  await store.saveTrust({ highestVersion: Math.max(version, trust?.highestVersion ?? 0), lastSyncAt: now.toISOString() });
  if (previous === version) return { status: "unchanged", version };
  return { status: "applied", version, previous };
}

function versionOf(envelope: unknown): number | null {
  const v = (envelope as { bundle?: { version?: unknown } } | null)?.bundle?.version;
  return typeof v === "number" ? v : null;
}

async function recordAttempt(store: StateStore, at: Date, error: { code: string; message: string } | null): Promise<void> {
  const prev = await store.loadSyncState();
  const iso = at.toISOString();
  const next: SyncState = error
    ? { ...prev, lastAttemptAt: iso, lastError: { ...error, at: iso } }
    : { ...prev, lastAttemptAt: iso, lastSyncAt: iso, lastError: null };
  await store.saveSyncState(next);
}
