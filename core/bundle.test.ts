import { generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { acceptBundle, signBundle, type Bundle } from "./bundle";
import { canonicalJson } from "./canonical-json";

describe("canonical JSON", () => {
  it("sorts keys at every depth and drops white space", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: "x" } })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });
  it("is the same for the same value in any key order", () => {
    expect(canonicalJson({ x: 1, y: [1, 2] })).toBe(canonicalJson(JSON.parse('{"y":[1,2],"x":1}')));
  });
  it("refuses what JSON cannot hold exactly", () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });
});

describe("signed bundles", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const other = generateKeyPairSync("ed25519");
  const now = new Date("2026-03-01T10:00:00Z");
  const bundle: Bundle = {
    format: 1,
    computer: { id: "c1", name: "build-01" },
    version: 5,
    issuedAt: now.toISOString(),
    validUntil: new Date(now.getTime() + 86_400_000).toISOString(),
    policies: [
      {
        id: "p1",
        name: "Build tools",
        revision: 1,
        users: ["alice"],
        applications: [{ type: "fileHash", sha256: "ab".repeat(32) }],
        duration: { type: "fixed", length: "2h" },
        startsAt: now.toISOString(),
        endsAt: new Date(now.getTime() + 7_200_000).toISOString(),
      },
    ],
    grants: [],
    allowlist: [],
  };
  const signed = signBundle(bundle, (m) => new Uint8Array(sign(null, m, privateKey)), "k1");
  const ctx = { verify: (m: Uint8Array, s: Uint8Array) => verify(null, m, publicKey, s), computerId: "c1", lastTrustedVersion: 4, now };
  // What travels: JSON text, parsed again on the other side (key order may differ).
  const wire = (x: unknown) => JSON.parse(JSON.stringify(x));

  it("round-trips: signed, sent as JSON, accepted", () => {
    const r = acceptBundle(wire(signed), ctx);
    expect("bundle" in r && r.bundle).toEqual(bundle);
  });

  it("accepts a re-read of the trusted version", () => {
    expect("bundle" in acceptBundle(wire(signed), { ...ctx, lastTrustedVersion: 5 })).toBe(true);
  });

  it.each([
    ["a policy's user changed", (e: any) => (e.bundle.policies[0].users = ["mallory"]), "bad_signature"],
    ["the end moved later", (e: any) => (e.bundle.policies[0].endsAt = "2030-01-01T00:00:00.000Z"), "bad_signature"],
    ["the signature replaced", (e: any) => (e.signature = Buffer.from(sign(null, Buffer.from("x"), privateKey)).toString("base64")), "bad_signature"],
    ["the signature not base64", (e: any) => (e.signature = "!!!"), "bad_signature"],
    ["signed by another key", (e: any) => (e.signature = Buffer.from(sign(null, Buffer.from(canonicalJson(e.bundle)), other.privateKey)).toString("base64")), "bad_signature"],
    ["no signature", (e: any) => delete e.signature, "malformed"],
  ])("refuses a tampered bundle: %s", (_, tamper, code) => {
    const e = wire(signed);
    tamper(e);
    expect(acceptBundle(e, ctx)).toEqual({ refused: expect.objectContaining({ code }) });
  });

  it("refuses a rollback, another computer's bundle and a stale one", () => {
    expect(acceptBundle(wire(signed), { ...ctx, lastTrustedVersion: 6 })).toEqual({ refused: expect.objectContaining({ code: "rollback" }) });
    expect(acceptBundle(wire(signed), { ...ctx, computerId: "c2" })).toEqual({ refused: expect.objectContaining({ code: "wrong_computer" }) });
    expect(acceptBundle(wire(signed), { ...ctx, now: new Date(bundle.validUntil) })).toEqual({ refused: expect.objectContaining({ code: "stale" }) });
    expect("bundle" in acceptBundle(wire(signed), { ...ctx, now: new Date(bundle.validUntil), allowStale: true })).toBe(true);
  });
});
