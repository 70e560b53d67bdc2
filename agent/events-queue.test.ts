import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { enqueueEvent, pendingEvents, queueLength, recordCheck, watchGrants } from "./events-queue";
import { StateStore } from "./state";
import { enrolledStore, makeBundle, makeKeys, signWith } from "./test-fixtures";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function store() {
  const d = mkdtempSync(join(tmpdir(), "jit-queue-"));
  dirs.push(d);
  return new StateStore(d);
}

describe("the agent's event queue", () => {
  it("keeps events on disk in the order they happened and sets a damaged file aside", async () => {
    const s = store();
    const second = await enqueueEvent(s, { type: "elevation_denied", at: "2026-03-01T10:00:02Z", user: "bob", reason: "no" });
    const first = await enqueueEvent(s, { type: "elevation_allowed", at: "2026-03-01T10:00:01Z", user: "alice" });
    writeFileSync(join(s.dir, "events", "000000000000001-x.json"), "{not json");
    const pending = await pendingEvents(s);
    expect(pending.map((p) => p.event.id)).toEqual([first, second]);
    expect(await queueLength(s)).toBe(2);
    expect(readdirSync(join(s.dir, "events")).filter((n) => n.endsWith(".bad"))).toHaveLength(1);
  });

  it("records a check only on an enrolled computer", async () => {
    const s = store();
    const outcome = { allowed: true, reason: "allowed", user: "alice", app: { path: "/x", sha256: null }, source: { type: "grant" as const, id: "g1", name: "request r9" }, expiresAt: null, bundleVersion: 3 };
    expect(await recordCheck(s, outcome, new Date())).toBeNull();
    await s.saveConfig({ server: "http://127.0.0.1:1", computer: { id: "c1", name: "pc" }, agentToken: "jat_x", publicKey: "k", keyId: "k", enrolledAt: new Date().toISOString() });
    const id = await recordCheck(s, outcome, new Date());
    const [q] = await pendingEvents(s);
    expect(q!.event).toMatchObject({ id, type: "elevation_allowed", user: "alice", requestId: "r9", bundleVersion: 3 });
  });
});

describe("grants ending on the computer", () => {
  it("reports a grant that ran out and one that was withdrawn, once each", async () => {
    const keys = makeKeys();
    const d = mkdtempSync(join(tmpdir(), "jit-grants-"));
    dirs.push(d);
    const { store } = await enrolledStore(keys, d);
    const t0 = new Date("2026-03-01T10:00:00Z");
    const grant = (id: string, minutes: number) => ({
      id,
      requestId: `r-${id}`,
      user: "alice",
      applications: [{ type: "fileHash" as const, sha256: "a".repeat(64) }],
      startsAt: new Date(t0.getTime() - 60_000).toISOString(),
      endsAt: new Date(t0.getTime() + minutes * 60_000).toISOString(),
    });
    const put = async (version: number, grants: ReturnType<typeof grant>[]) => {
      await store.writeBundleEnvelope(signWith(keys, makeBundle({ version, grants }, t0)));
      await store.saveTrust({ highestVersion: version, lastSyncAt: t0.toISOString() });
    };
    await put(1, [grant("g1", 10), grant("g2", 60)]);
    expect(await watchGrants(store, t0)).toBe(0);
    // g2 is withdrawn (a new bundle without it); later g1's time runs out.
    await put(2, [grant("g1", 10)]);
    expect(await watchGrants(store, new Date(t0.getTime() + 60_000))).toBe(1);
    expect(await watchGrants(store, new Date(t0.getTime() + 11 * 60_000))).toBe(1);
    expect(await watchGrants(store, new Date(t0.getTime() + 12 * 60_000))).toBe(0);
    const events = (await pendingEvents(store)).map((q) => q.event);
    expect(events.map((e) => [e.type, e.source?.id, e.requestId])).toEqual([
      ["grant_ended", "g2", "r-g2"],
      ["grant_ended", "g1", "r-g1"],
    ]);
    expect(events[0]!.reason).toMatch(/withdrawn/);
    expect(events[1]!.reason).toMatch(/ran out/);
    expect(events[1]!.at).toBe(new Date(t0.getTime() + 10 * 60_000).toISOString());
  });
});
