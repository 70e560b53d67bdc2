// Test helpers (not shipped behaviour): a real Ed25519 key pair, signed bundles, and an enrolled temp state dir.
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from "node:crypto";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUNDLE_FORMAT, signBundle, type Bundle, type SignedBundle } from "../core/bundle";
import { StateStore, type AgentConfig } from "./state";

export type TestKeys = { publicKeyPem: string; privateKey: KeyObject };

export function makeKeys(): TestKeys {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return { publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), privateKey };
}

export function makeBundle(overrides: Partial<Bundle> = {}, now = new Date()): Bundle {
  return {
    format: BUNDLE_FORMAT,
    computer: { id: "cmp_1", name: "build-01" },
    version: 1,
    issuedAt: now.toISOString(),
    validUntil: new Date(now.getTime() + 7 * 86_400_000).toISOString(),
    policies: [],
    grants: [],
    allowlist: [],
    ...overrides,
  };
}

export function signWith(keys: TestKeys, bundle: Bundle): SignedBundle {
  return signBundle(bundle, (m) => new Uint8Array(cryptoSign(null, m, keys.privateKey)), "key-1");
}

export async function makeTempDir(prefix = "jit-agent-test-"): Promise<string> {
  return fs.mkdtemp(join(tmpdir(), prefix));
}

export async function enrolledStore(keys: TestKeys, dir: string, overrides: Partial<AgentConfig> = {}): Promise<{ store: StateStore; config: AgentConfig }> {
  const store = new StateStore(dir);
  const config: AgentConfig = {
    server: "http://127.0.0.1:9",
    computer: { id: "cmp_1", name: "build-01" },
    agentToken: "agt_secret_token",
    publicKey: keys.publicKeyPem,
    keyId: "key-1",
    enrolledAt: new Date().toISOString(),
    ...overrides,
  };
  await store.saveConfig(config);
  return { store, config };
}
