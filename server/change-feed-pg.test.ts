// What crosses servers in a NOTIFY payload: small changes as they are, long lists split (nothing dropped), bundle
// changes naming too many computers coalesced to "all".
import { describe, expect, it } from "vitest";
import { encodeChange } from "./change-feed-pg";

const decode = (p: string) => JSON.parse(p) as { o: string; c: Record<string, unknown> };

describe("encodeChange", () => {
  it("sends a small change as one payload", () => {
    const out = encodeChange("o1", { kind: "requests", ids: ["a", "b"] });
    expect(out.map(decode)).toEqual([{ o: "o1", c: { kind: "requests", ids: ["a", "b"] } }]);
  });

  it("splits a long list of requests over several payloads under the NOTIFY limit, keeping every id once", () => {
    const ids = Array.from({ length: 3_000 }, (_, i) => `request-${i}-${"x".repeat(30)}`);
    const out = encodeChange("o1", { kind: "requests", ids });
    expect(out.length).toBeGreaterThan(1);
    for (const p of out) expect(Buffer.byteLength(p)).toBeLessThan(8_000);
    expect(out.flatMap((p) => decode(p).c.ids as string[])).toEqual(ids);
  });

  it("splits the list of a kind it does not know, keeping its other fields", () => {
    const change = { kind: "sync", collections: Array.from({ length: 2_000 }, (_, i) => `collection-${i}`) } as unknown as Parameters<typeof encodeChange>[1];
    const out = encodeChange("o1", change).map(decode);
    expect(out.every((p) => p.c.kind === "sync")).toBe(true);
    expect(out.flatMap((p) => p.c.collections as string[])).toHaveLength(2_000);
  });

  it("coalesces a bundle change naming too many computers to all", () => {
    const out = encodeChange("o1", { kind: "bundle", computerIds: Array.from({ length: 1_000 }, (_, i) => `computer-${i}-${"y".repeat(20)}`) });
    expect(out.map(decode)).toEqual([{ o: "o1", c: { kind: "bundle", computerIds: "all" } }]);
  });
});
