// A Web Push receiver on loopback for tests, written from the specs with node:crypto only (not with web-push or
// http_ece, so it checks the server's use of them independently). It plays both the push service and the browser:
// - like a browser, it makes a subscription: a P-256 key pair (p256dh) and a 16-byte auth secret;
// - like a push service, it checks the VAPID header (RFC 8292): `Authorization: vapid t=<JWT>, k=<key>` with an
//   ES256 JWT signed by k, `aud` the endpoint's origin, `exp` in the future and at most 24 h away, `sub` present;
// - like a browser, it decrypts the aes128gcm body (RFC 8291 with RFC 8188): ECDH with the sender's key from the
//   header, HKDF with the auth secret, then the content key and nonce, AES-128-GCM per record, padding delimiter.
import { createCipheriv, createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify, type ECDH } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type ReceivedPush = {
  headers: IncomingHttpHeaders;
  /** The decrypted message (UTF-8), and parsed as JSON when it is. */
  text: string;
  json: unknown;
  vapid: { publicKey: string; claims: { aud: string; exp: number; sub: string } };
};

const b64u = (b: Buffer | Uint8Array) => Buffer.from(b).toString("base64url");

// ---- HKDF (RFC 5869) with HMAC-SHA-256 ----
function hkdfExtract(salt: Buffer, ikm: Buffer): Buffer {
  return createHmac("sha256", salt).update(ikm).digest();
}
function hkdfExpand(prk: Buffer, info: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(out).length < length; i++) {
    t = createHmac("sha256", prk).update(Buffer.concat([t, info, Buffer.from([i])])).digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, length);
}

/** RFC 8291 §3.4 + RFC 8188 §2: the plaintext of an aes128gcm push message for the subscription (uaKeys, authSecret). */
export function decryptAes128gcm(body: Buffer, ua: ECDH, authSecret: Buffer): Buffer {
  if (body.length < 21) throw new Error("aes128gcm: body shorter than its header");
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const keyid = body.subarray(21, 21 + idlen);
  if (rs < 18) throw new Error(`aes128gcm: record size ${rs} too small`);
  if (idlen !== 65 || keyid[0] !== 0x04) throw new Error("aes128gcm: keyid must be the sender's 65-byte uncompressed P-256 key");
  const asPublic = Buffer.from(keyid);
  const uaPublic = ua.getPublicKey();
  const ecdhSecret = ua.computeSecret(asPublic);
  // IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32)
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0", "latin1"), uaPublic, asPublic]);
  const ikm = hkdfExpand(hkdfExtract(authSecret, ecdhSecret), keyInfo, 32);
  const prk = hkdfExtract(salt, ikm);
  const cek = hkdfExpand(prk, Buffer.from("Content-Encoding: aes128gcm\0", "latin1"), 16);
  const nonceBase = hkdfExpand(prk, Buffer.from("Content-Encoding: nonce\0", "latin1"), 12);
  const records: Buffer[] = [];
  const data = body.subarray(21 + idlen);
  for (let seq = 0, at = 0; at < data.length; seq++, at += rs) {
    const record = data.subarray(at, Math.min(at + rs, data.length));
    if (record.length <= 16) throw new Error("aes128gcm: a record has no room for its tag");
    const nonce = Buffer.from(nonceBase);
    // The record sequence number, XORed into the nonce's low bits (big-endian; our records number far below 2^32).
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
    const d = createDecipheriv("aes-128-gcm", cek, nonce);
    d.setAuthTag(record.subarray(record.length - 16));
    const plain = Buffer.concat([d.update(record.subarray(0, record.length - 16)), d.final()]);
    const last = at + rs >= data.length;
    // Padding: the content, one delimiter byte (0x02 in the last record, 0x01 before), then zeros.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0) throw new Error("aes128gcm: a record without a padding delimiter");
    if (plain[end] !== (last ? 0x02 : 0x01)) throw new Error(`aes128gcm: wrong padding delimiter ${plain[end]} (last record: ${last})`);
    records.push(plain.subarray(0, end));
  }
  return Buffer.concat(records);
}

/** The sending side (RFC 8291), for checking the receiver itself against a known-good message in tests. */
export function encryptAes128gcm(plain: Buffer, uaPublic: Buffer, authSecret: Buffer): Buffer {
  const as = createECDH("prime256v1");
  as.generateKeys();
  const asPublic = as.getPublicKey();
  const salt = randomBytes(16);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0", "latin1"), uaPublic, asPublic]);
  const ikm = hkdfExpand(hkdfExtract(authSecret, as.computeSecret(uaPublic)), keyInfo, 32);
  const prk = hkdfExtract(salt, ikm);
  const cek = hkdfExpand(prk, Buffer.from("Content-Encoding: aes128gcm\0", "latin1"), 16);
  const nonce = hkdfExpand(prk, Buffer.from("Content-Encoding: nonce\0", "latin1"), 12);
  const c = createCipheriv("aes-128-gcm", cek, nonce);
  const ct = Buffer.concat([c.update(Buffer.concat([plain, Buffer.from([0x02])])), c.final(), c.getAuthTag()]);
  const header = Buffer.alloc(21);
  salt.copy(header, 0);
  header.writeUInt32BE(4096, 16);
  header[20] = 65;
  return Buffer.concat([header, asPublic, ct]);
}

/** RFC 8292: checks `vapid t=…, k=…` for a push to `endpointOrigin` at time `nowSec`; the key and claims, or a throw. */
export function verifyVapid(authorization: string | undefined, endpointOrigin: string, nowSec: number): ReceivedPush["vapid"] {
  if (!authorization) throw new Error("VAPID: no Authorization header");
  const m = /^vapid\s+(.*)$/i.exec(authorization.trim());
  if (!m) throw new Error(`VAPID: the Authorization scheme is not "vapid": ${authorization.slice(0, 20)}`);
  const params = new Map<string, string>();
  for (const part of m[1]!.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const t = params.get("t");
  const k = params.get("k");
  if (!t || !k) throw new Error("VAPID: t= and k= are both required");
  const point = Buffer.from(k, "base64url");
  if (point.length !== 65 || point[0] !== 0x04) throw new Error("VAPID: k is not an uncompressed P-256 public key");
  const key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) }, format: "jwk" });
  const parts = t.split(".");
  if (parts.length !== 3) throw new Error("VAPID: t is not a JWS compact serialisation");
  const [h, p, s] = parts as [string, string, string];
  const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as { alg?: string; typ?: string };
  if (header.alg !== "ES256") throw new Error(`VAPID: alg is ${header.alg}, not ES256`);
  const sig = Buffer.from(s, "base64url");
  if (sig.length !== 64) throw new Error("VAPID: an ES256 signature is 64 bytes (r || s)");
  if (!verify("sha256", Buffer.from(`${h}.${p}`, "ascii"), { key, dsaEncoding: "ieee-p1363" }, sig)) throw new Error("VAPID: the JWT signature does not verify with k");
  const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { aud?: unknown; exp?: unknown; sub?: unknown };
  if (claims.aud !== endpointOrigin) throw new Error(`VAPID: aud ${String(claims.aud)} is not the endpoint's origin ${endpointOrigin}`);
  if (typeof claims.exp !== "number" || claims.exp <= nowSec) throw new Error("VAPID: exp missing or passed");
  if (claims.exp > nowSec + 24 * 3600) throw new Error("VAPID: exp more than 24 hours away");
  if (typeof claims.sub !== "string" || !/^(mailto:|https:)/.test(claims.sub)) throw new Error("VAPID: sub missing (a mailto: or https: contact)");
  return { publicKey: k, claims: { aud: claims.aud as string, exp: claims.exp, sub: claims.sub } };
}

/** One subscribed "device": an endpoint on loopback, its keys, what it received, and what it answers. */
export class PushReceiver {
  readonly ua: ECDH = createECDH("prime256v1");
  readonly authSecret = randomBytes(16);
  readonly received: ReceivedPush[] = [];
  /** Messages that failed a check: a correct sender makes none. */
  readonly errors: string[] = [];
  /** What the "push service" answers (201 Created by default; 410 Gone: the device unsubscribed). */
  status = 201;
  hits = 0;
  private server: Server | null = null;
  private port = 0;
  private readonly path = `/push/${b64u(randomBytes(12))}`;
  private waiters: Array<() => void> = [];

  constructor() {
    this.ua.generateKeys();
  }

  async open(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.hits += 1;
        if (req.method !== "POST" || req.url !== this.path) {
          res.writeHead(404).end();
          return;
        }
        if (this.status < 200 || this.status >= 300) {
          res.writeHead(this.status).end();
          return;
        }
        try {
          if (req.headers["content-encoding"] !== "aes128gcm") throw new Error(`Content-Encoding is ${req.headers["content-encoding"]}, not aes128gcm`);
          if (!/^\d+$/.test(String(req.headers.ttl ?? ""))) throw new Error("TTL header missing");
          const vapid = verifyVapid(req.headers.authorization, this.origin, Math.floor(Date.now() / 1000));
          const text = decryptAes128gcm(Buffer.concat(chunks), this.ua, this.authSecret).toString("utf8");
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON: kept as text
          }
          this.received.push({ headers: req.headers, text, json, vapid });
          res.writeHead(201, { location: `${this.path}/m/${this.received.length}` }).end();
        } catch (e) {
          this.errors.push((e as Error).message);
          res.writeHead(400).end();
        }
        for (const w of this.waiters.splice(0)) w();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What pushManager.subscribe() would give, as PushSubscription.toJSON(). */
  get subscription(): { endpoint: string; keys: { p256dh: string; auth: string } } {
    return { endpoint: `${this.origin}${this.path}`, keys: { p256dh: b64u(this.ua.getPublicKey()), auth: b64u(this.authSecret) } };
  }

  /** Resolves when `n` messages have arrived (or throws after the timeout). */
  async waitFor(n: number, timeoutMs = 10_000): Promise<ReceivedPush[]> {
    const end = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > end) throw new Error(`push receiver: ${this.received.length} of ${n} messages in ${timeoutMs} ms; errors: ${this.errors.join("; ") || "none"}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.received;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
