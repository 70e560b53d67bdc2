// Trusting a bundle: the server's Ed25519 key from the config, and the cached bundle on disk re-checked on every read.
import { createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { acceptBundle, type Bundle, type BundleRefusal, type VerifyFn } from "../core/bundle";
import type { AgentConfig, StateStore } from "./state";

/** Parses the SPKI PEM and insists on Ed25519: any other key type must never verify a bundle. */
export function loadPublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`the server's signing key is ${key.asymmetricKeyType ?? "unknown"}, not Ed25519`);
  return key;
}

export function ed25519Verifier(publicKeyPem: string): VerifyFn {
  const key = loadPublicKey(publicKeyPem);
  return (message, signature) => cryptoVerify(null, message, key, signature);
}

export type CachedBundle =
  | { status: "none" }
  | { status: "trusted"; bundle: Bundle; envelope: unknown }
  | { status: "refused"; refusal: BundleRefusal };

/**
 * Reads bundle.json and runs it through acceptBundle() again, so a file edited on disk (or written for another
 * computer, or older than the rollback guard) is refused. Staleness is the one check left out: decide() denies
 * a stale bundle itself with a clearer reason, and `status` still needs to show its version and validity.
 */
export async function loadCachedBundle(store: StateStore, config: AgentConfig, now: Date): Promise<CachedBundle> {
  const envelope = await store.readBundleEnvelope().catch((e: unknown) => {
    return { unreadable: e instanceof Error ? e.message : String(e) };
  });
  if (envelope === undefined) return { status: "none" };
  if (typeof envelope === "object" && envelope !== null && "unreadable" in envelope) {
    return { status: "refused", refusal: { code: "malformed", message: String(envelope.unreadable) } };
  }
  let trust;
  try {
    trust = await store.loadTrust();
  } catch (e) {
    // Without the rollback guard we cannot tell an old bundle from the current one: trust none.
    return { status: "refused", refusal: { code: "rollback", message: (e as Error).message } };
  }
  let verify: VerifyFn;
  try {
    verify = ed25519Verifier(config.publicKey);
  } catch (e) {
    return { status: "refused", refusal: { code: "bad_signature", message: `cannot load the server's key: ${(e as Error).message}` } };
  }
  // A stale cached bundle is still read: decide() then denies everything with the stale reason (fail closed).
  const result = acceptBundle(envelope, { verify, computerId: config.computer.id, lastTrustedVersion: trust?.highestVersion ?? null, now, allowStale: true });
  if ("refused" in result) return { status: "refused", refusal: result.refused };
  return { status: "trusted", bundle: result.bundle, envelope };
}
