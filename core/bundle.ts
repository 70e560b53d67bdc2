// The signed policy bundle a computer pulls: its format, and the checks an agent makes before trusting one
// (like TUF metadata: signature, computer, no rollback, not stale).
import { z } from "zod";
import { decodeBase64 } from "@oslojs/encoding";
import { AppRuleSchema } from "./app-rule";
import { canonicalJson } from "./canonical-json";
import { PolicyApplicationsSchema, PolicyDurationSchema, PolicyUsersSchema } from "./policy";

export const BUNDLE_FORMAT = 1;

/** A deployed policy as a computer needs it: whom and what it allows, and the concrete span it is in force. */
export const BundlePolicySchema = z.object({
  id: z.string(),
  name: z.string(),
  revision: z.number().int(),
  users: PolicyUsersSchema,
  applications: PolicyApplicationsSchema,
  duration: PolicyDurationSchema,
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime(),
});
export type BundlePolicy = z.infer<typeof BundlePolicySchema>;

/** An approved elevation request in force on this computer (filled by the requests issue). */
export const BundleGrantSchema = z.object({
  id: z.string(),
  requestId: z.string(),
  user: z.string(),
  applications: z.array(AppRuleSchema).min(1),
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime(),
});
export type BundleGrant = z.infer<typeof BundleGrantSchema>;

/** What the computer tells a denied user about asking for elevation (filled by the requests issue). */
export const BundleRequestSettingsSchema = z.object({
  enabled: z.boolean(),
  /** The longest duration a user may ask for, e.g. "8h". */
  maxDuration: z.string(),
  minJustificationLength: z.number().int().min(0),
});
export type BundleRequestSettings = z.infer<typeof BundleRequestSettingsSchema>;

export const BundleSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  computer: z.object({ id: z.string(), name: z.string() }),
  version: z.number().int().positive(),
  issuedAt: z.iso.datetime(),
  validUntil: z.iso.datetime(),
  policies: z.array(BundlePolicySchema),
  grants: z.array(BundleGrantSchema),
  allowlist: z.array(AppRuleSchema),
  requests: BundleRequestSettingsSchema.optional(),
});
export type Bundle = z.infer<typeof BundleSchema>;

/** What travels and what the agent keeps on disk: the bundle and an Ed25519 signature over its canonical JSON. */
export const SignedBundleSchema = z.object({
  bundle: z.record(z.string(), z.unknown()),
  signature: z.string().min(1),
  keyId: z.string().optional(),
});
export type SignedBundle = { bundle: Bundle; signature: string; keyId?: string };

/** Signing and checking come in from outside: core does no cryptography of its own. */
export type SignFn = (message: Uint8Array) => Uint8Array;
export type VerifyFn = (message: Uint8Array, signature: Uint8Array) => boolean;

export function bundleSigningBytes(bundle: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(bundle));
}

export function signBundle(bundle: Bundle, sign: SignFn, keyId?: string): SignedBundle {
  const sig = sign(bundleSigningBytes(bundle));
  let b64 = "";
  for (const byte of sig) b64 += String.fromCharCode(byte);
  return { bundle, signature: btoa(b64), ...(keyId ? { keyId } : {}) };
}

export type BundleRefusal = {
  code: "malformed" | "bad_signature" | "wrong_computer" | "rollback" | "stale";
  message: string;
};

export type AcceptBundleContext = {
  verify: VerifyFn;
  computerId: string;
  /** The highest version this computer has trusted before (kept on disk), or null on first pull. */
  lastTrustedVersion: number | null;
  now: Date;
  /** Reading the cache: a bundle past validUntil is returned so decide() can deny with the stale reason. */
  allowStale?: boolean;
};

/**
 * Checks an envelope that came from the network or the disk. The signature is checked over the bytes as
 * received, before the bundle is parsed. A bundle equal in version to the trusted one is accepted (a re-read).
 */
export function acceptBundle(envelope: unknown, ctx: AcceptBundleContext): { bundle: Bundle; signed: SignedBundle } | { refused: BundleRefusal } {
  const env = SignedBundleSchema.safeParse(envelope);
  if (!env.success) return { refused: { code: "malformed", message: "the bundle envelope is malformed" } };
  let sig: Uint8Array;
  try {
    sig = decodeBase64(env.data.signature);
  } catch {
    return { refused: { code: "bad_signature", message: "the bundle signature is not valid base64" } };
  }
  let ok = false;
  try {
    ok = ctx.verify(bundleSigningBytes(env.data.bundle), sig);
  } catch {
    ok = false;
  }
  if (!ok) return { refused: { code: "bad_signature", message: "the bundle signature does not verify with the server's key" } };
  const parsed = BundleSchema.safeParse(env.data.bundle);
  if (!parsed.success) return { refused: { code: "malformed", message: `the signed bundle is not in format ${BUNDLE_FORMAT}` } };
  const bundle = parsed.data;
  if (bundle.computer.id !== ctx.computerId) {
    return { refused: { code: "wrong_computer", message: `the bundle is for computer ${bundle.computer.name} (${bundle.computer.id}), not this one` } };
  }
  if (ctx.lastTrustedVersion !== null && bundle.version < ctx.lastTrustedVersion) {
    return { refused: { code: "rollback", message: `the bundle's version ${bundle.version} is lower than the trusted version ${ctx.lastTrustedVersion}` } };
  }
  if (!ctx.allowStale && Date.parse(bundle.validUntil) <= ctx.now.getTime()) {
    return { refused: { code: "stale", message: `the bundle expired at ${bundle.validUntil}` } };
  }
  return { bundle, signed: { bundle, signature: env.data.signature, ...(env.data.keyId ? { keyId: env.data.keyId } : {}) } };
}
