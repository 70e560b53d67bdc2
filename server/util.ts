// Small helpers the server's services share: ids, random tokens, hashing.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { encodeBase32LowerCaseNoPadding } from "@oslojs/encoding";

export const newId = (): string => randomUUID();

/** A random token with a readable prefix, e.g. "jet_…" (≥ 160 bits from the CSPRNG). */
export function randomToken(prefix: string, bytes = 20): string {
  return `${prefix}${encodeBase32LowerCaseNoPadding(randomBytes(bytes))}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export const iso = (d: Date): string => d.toISOString();
