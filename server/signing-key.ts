// The server's Ed25519 bundle-signing key: made on first start. With SQLite it is a file under DATA_DIR
// (signing-key.pem, mode 0600); with PostgreSQL it is a row in server_keys, so every server signs alike.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, renameSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Db, Dialect } from "./db/schema";

export type SigningKey = {
  keyId: string;
  publicKeyPem: string;
  sign: (message: Uint8Array) => Uint8Array;
};

function fromPrivatePem(pem: string): SigningKey {
  const privateKey: KeyObject = createPrivateKey(pem);
  const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  const der = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  return {
    keyId: createHash("sha256").update(der).digest("hex").slice(0, 16),
    publicKeyPem,
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

function newPrivatePem(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

export async function loadOrCreateSigningKey(db: Db, dialect: Dialect, dataDir: string): Promise<SigningKey> {
  if (dialect === "sqlite") {
    const file = join(dataDir, "signing-key.pem");
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, newPrivatePem(), { mode: 0o600 });
      renameSync(tmp, file);
    }
    return fromPrivatePem(readFileSync(file, "utf8"));
  }
  const existing = await db.selectFrom("server_keys").select("private_key").where("id", "=", "bundle-signing").executeTakeFirst();
  if (existing) return fromPrivatePem(existing.private_key);
  const pem = newPrivatePem();
  const key = fromPrivatePem(pem);
  // Several servers may start at once: the first insert wins and everyone reads the winner.
  await db
    .insertInto("server_keys")
    .values({ id: "bundle-signing", public_key: key.publicKeyPem, private_key: pem, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  const row = await db.selectFrom("server_keys").select("private_key").where("id", "=", "bundle-signing").executeTakeFirstOrThrow();
  return fromPrivatePem(row.private_key);
}
