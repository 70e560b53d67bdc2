// The chain check as a property: on any chain, any one act of tampering (edit, delete, insert, swap) is found, and
// the first bad sequence number named is exactly where it happened.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EventsTable } from "../db/schema";
import { firstBreak } from "./audit";
import { eventHash, GENESIS_HASH, justificationOf } from "./events";

function chain(n: number): EventsTable[] {
  const rows: EventsTable[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const base = {
      seq: i,
      id: `id-${i}`,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      type: i % 3 ? "policy.created" : "agent.elevation_allowed",
      actor_type: i % 3 ? "user" : "computer",
      actor_id: `a${i % 4}`,
      actor_name: `actor ${i % 4}`,
      policy_id: null,
      computer_id: i % 3 ? null : "c1",
      request_id: null,
      detail: JSON.stringify(i % 5 ? { n: i } : { justification: `why ${i}` }),
      prev_hash: prev,
      end_user: i % 3 ? null : "alice",
    };
    const hash = eventHash(base);
    rows.push({ ...base, hash, justification: justificationOf(base.detail) });
    prev = hash;
  }
  return rows;
}

/** Renumbers rows 1..n as raw SQL would after moving them (seq is the only thing that changes). */
const renumber = (rows: EventsTable[]) => rows.map((r, i) => ({ ...r, seq: i + 1 }));

describe("the chain check", () => {
  it("passes an intact chain", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), (n) => {
        expect(firstBreak(chain(n))).toBeNull();
      }),
    );
  });

  it("names the edited event", () => {
    const field = fc.constantFrom("at", "type", "actor_name", "detail", "end_user", "justification", "hash", "prev_hash");
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), field, (n, k0, f) => {
        const rows = chain(n);
        const k = k0 % n;
        const r = rows[k]!;
        rows[k] = { ...r, [f]: f === "justification" ? "edited" : f === "end_user" ? "mallory" : f === "detail" ? '{"n":-1}' : `${String(r[f as keyof EventsTable])}x` };
        expect(firstBreak(rows)?.badSeq).toBe(k + 1);
      }),
    );
  });

  it("names a deleted event (not the last one: that is the signed head's job)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.nat(), (n, k0) => {
        const rows = chain(n);
        const k = k0 % (n - 1);
        rows.splice(k, 1);
        expect(firstBreak(rows)).toMatchObject({ badSeq: k + 1, problem: expect.stringMatching(/missing/) });
      }),
    );
  });

  it("names an inserted event, whatever hash it carries, once the rest is renumbered", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), fc.boolean(), (n, k0, wellFormed) => {
        const rows = chain(n);
        const k = k0 % n; // insert before rows[k]
        const prev = k === 0 ? GENESIS_HASH : rows[k - 1]!.hash;
        const { hash: _h, justification: _j, ...fields } = rows[k]!;
        const forged = { ...fields, id: "forged", detail: '{"forged":true}', prev_hash: prev, seq: k + 1 };
        // A forger who recomputes the hash makes the inserted event look right: the break shows at the next one.
        const hash = wellFormed ? eventHash(forged) : "f".repeat(64);
        const tampered = renumber([...rows.slice(0, k), { ...forged, hash, justification: null }, ...rows.slice(k)]);
        expect(firstBreak(tampered)?.badSeq).toBe(wellFormed ? k + 2 : k + 1);
      }),
    );
  });

  it("names the first of two swapped events", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.nat(), (n, k0) => {
        const rows = chain(n);
        const k = k0 % (n - 1);
        [rows[k], rows[k + 1]] = [rows[k + 1]!, rows[k]!];
        expect(firstBreak(renumber(rows))?.badSeq).toBe(k + 1);
      }),
    );
  });
});
