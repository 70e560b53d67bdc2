import Ajv from "ajv";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { checkSchema } from "rxdb/plugins/dev-mode";
import { describe, expect, it } from "vitest";
import {
  checkpointAfter,
  compareCheckpoints,
  describeInterval,
  isAfterCheckpoint,
  lostRaceMessage,
  newOutboxEntry,
  nextStamp,
  offlineTime,
  OUTBOX_KINDS,
  OUTBOX_PAYLOAD_SCHEMAS,
  collectionsFor,
  SYNC_COLLECTIONS,
  SYNC_DOC_SCHEMAS,
  SYNC_JSON_SCHEMAS,
  tombstone,
  type SyncCollection,
} from "./sync";

const AT = "2026-11-27T10:00:00.000Z";
const SHA = "a".repeat(64);

/** One full, valid document per collection (as the server sends them). */
const SAMPLES: Record<SyncCollection, Record<string, unknown>> = {
  policies: {
    id: "p1",
    name: "Build tools",
    description: "",
    computers: ["build-*"],
    users: ["alice"],
    duration: { type: "fixed", length: "8h" },
    applications: [{ type: "fileHash", sha256: SHA }],
    status: "deployed",
    policyRevision: 2,
    deployedAt: AT,
    createdAt: AT,
    updatedAt: AT,
    effectiveStatus: "deployed",
    startsAt: AT,
    endsAt: "2026-11-27T18:00:00.000Z",
    _deleted: false,
  },
  allowlist: { id: "a1", name: "Vendor X", description: "d", rule: { type: "vendor", vendor: "X" }, createdAt: AT, updatedAt: AT, _deleted: false },
  requests: {
    id: "r1",
    computer: { id: "c1", name: "build-01" },
    user: "alice",
    app: { path: "/usr/bin/tool", sha256: SHA },
    requestedDuration: "30m",
    justification: "deploy the hotfix",
    status: "approved",
    createdAt: AT,
    waitingSince: AT,
    decidedAt: AT,
    decidedBy: { type: "user", id: "u1", name: "dana@example.com" },
    decidedOfflineAt: "2026-11-27T09:58:00.000Z",
    approvals: [{ userId: "u1", email: "dana@example.com", at: AT }],
    approvalsNeeded: 1,
    grantedDuration: "30m",
    startsAt: AT,
    endsAt: "2026-11-27T10:30:00.000Z",
    note: null,
    declineReason: null,
    revokedBy: null,
    revokeReason: null,
    extendsRequestId: null,
    lapsesAt: null,
    applied: { bundleVersion: 3, appliedAt: AT, computerLastSeenAt: AT },
    updatedAt: AT,
    _deleted: false,
  },
  computers: { id: "c1", name: "build-01", os: "linux", agentVersion: "0.1.0", enrolledAt: AT, lastSeenAt: AT, bundleVersion: 3, latestBundleVersion: 3, updatedAt: AT, _deleted: false },
  events: {
    id: "e1",
    seq: 7,
    at: AT,
    type: "request.approved",
    label: "Elevation request approved",
    actor: { type: "user", id: "u1", name: "dana@example.com" },
    endUser: "alice",
    policyId: null,
    computerId: "c1",
    requestId: "r1",
    detail: { grantedDuration: "30m" },
    hash: "h",
    prevHash: "p",
    updatedAt: AT,
    _deleted: false,
  },
  settings: {
    id: "settings",
    requests: { enabled: true, maxDuration: "8h", minJustificationLength: 10, lapseAfter: "24h" },
    autonomousApproval: { enabled: false, rules: [] },
    twoPersonApproval: { enabled: true, approvalsRequired: 2, highRiskApplications: [{ type: "vendor", vendor: "X" }], longerThan: null },
    updatedAt: AT,
    _deleted: false,
  },
  outbox: { ...newOutboxEntry("3f1b6c1e-0000-4000-8000-000000000001", "request.approve", { id: "r1" }, new Date(AT)) },
};

const ajv = new Ajv({ strict: false });
const jsonValid = (c: SyncCollection, doc: unknown) => ajv.validate(SYNC_JSON_SCHEMAS[c], doc);

/** Each collection's RxDB schema as released: [version, the first 16 hex of SHA-256 of its JSON]. When a schema changes,
 * give it a new version in core/sync.ts and put both here. */
const RELEASED_SCHEMAS: Record<SyncCollection, [number, string]> = {
  policies: [1, "a1fc1f96284ea901"],
  allowlist: [1, "ab6c3bd32fb25c58"],
  requests: [1, "746f98ed93629c35"],
  computers: [1, "d5adf2125601b170"],
  events: [1, "3dcbbe95c31b414f"],
  settings: [0, "414810c4658d5523"],
  outbox: [0, "0cab7e839a015780"],
};

describe("each collection's zod schema and RxDB JSON schema agree", () => {
  it.each(SYNC_COLLECTIONS)("%s: the same properties (RxDB keeps _deleted itself)", (c) => {
    const zodKeys = Object.keys((SYNC_DOC_SCHEMAS[c] as unknown as { shape: Record<string, unknown> }).shape)
      .filter((k) => k !== "_deleted")
      .sort();
    expect(Object.keys(SYNC_JSON_SCHEMAS[c].properties).sort()).toEqual(zodKeys);
    expect([...SYNC_JSON_SCHEMAS[c].required].sort()).toEqual(zodKeys);
  });

  it.each(SYNC_COLLECTIONS)("%s: a sample document is valid for both, and missing a field for neither", (c) => {
    const doc = SAMPLES[c];
    expect(SYNC_DOC_SCHEMAS[c].safeParse(doc).success).toBe(true);
    expect(jsonValid(c, doc), JSON.stringify(ajv.errors)).toBe(true);
    for (const key of Object.keys(SYNC_JSON_SCHEMAS[c].properties)) {
      const { [key]: _dropped, ...partial } = doc;
      expect(SYNC_DOC_SCHEMAS[c].safeParse(partial).success, `${c} without ${key} (zod)`).toBe(false);
      expect(jsonValid(c, partial), `${c} without ${key} (JSON schema)`).toBe(false);
    }
  });

  it.each(SYNC_COLLECTIONS)("%s: a tombstone is valid for both", (c) => {
    const t = tombstone(c, c === "settings" ? "settings" : "gone-0000-1", AT);
    expect(t._deleted).toBe(true);
    expect(SYNC_DOC_SCHEMAS[c].safeParse(t).success, JSON.stringify(SYNC_DOC_SCHEMAS[c].safeParse(t).error?.issues)).toBe(true);
    expect(jsonValid(c, t), JSON.stringify(ajv.errors)).toBe(true);
  });

  it.each(SYNC_COLLECTIONS)("%s: RxDB accepts the JSON schema (a version, primary key id, indexes)", (c) => {
    const schema = SYNC_JSON_SCHEMAS[c];
    expect(Number.isInteger(schema.version) && schema.version >= 0).toBe(true);
    expect(schema.primaryKey).toBe("id");
    expect(() => checkSchema(structuredClone(schema) as never)).not.toThrow();
  });

  it("at most 13 collections (RxDB open core)", () => {
    expect(SYNC_COLLECTIONS.length).toBeLessThanOrEqual(13);
  });

  it("the requests screen's indexes are there", () => {
    expect(SYNC_JSON_SCHEMAS.requests.indexes).toContainEqual(["status", "updatedAt"]);
    expect(SYNC_JSON_SCHEMAS.events.indexes).toContainEqual(["seq"]);
  });

  // A changed schema (indexes included) must come with a new version: RxDB refuses to open a store whose schema
  // changed under the same version. These hashes are of the schemas as released at each version.
  it.each(SYNC_COLLECTIONS)("%s: a changed schema has a new version", (c) => {
    const hash = createHash("sha256").update(JSON.stringify(SYNC_JSON_SCHEMAS[c])).digest("hex").slice(0, 16);
    expect([SYNC_JSON_SCHEMAS[c].version, hash]).toEqual(RELEASED_SCHEMAS[c]);
  });
});

describe("checkpoints", () => {
  it("order by updatedAt, then id", () => {
    expect(compareCheckpoints({ updatedAt: AT, id: "b" }, { updatedAt: AT, id: "a" })).toBeGreaterThan(0);
    expect(compareCheckpoints({ updatedAt: "2026-11-27T09:00:00.000Z", id: "z" }, { updatedAt: AT, id: "a" })).toBeLessThan(0);
    expect(isAfterCheckpoint({ updatedAt: AT, id: "a" }, null)).toBe(true);
    expect(isAfterCheckpoint({ updatedAt: AT, id: "a" }, { updatedAt: AT, id: "a" })).toBe(false);
  });

  it("the checkpoint after a page is its last document's, or the one given for an empty page", () => {
    const given = { updatedAt: AT, id: "x" };
    expect(checkpointAfter([], given)).toEqual(given);
    expect(checkpointAfter([], null)).toBeNull();
    expect(checkpointAfter([{ updatedAt: AT, id: "a" }, { updatedAt: "2026-11-27T10:00:00.001Z", id: "b" }], given)).toEqual({ updatedAt: "2026-11-27T10:00:00.001Z", id: "b" });
  });

  it("stamps strictly increase, even for many writes in one millisecond or a clock that steps back", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 200 }), (steps) => {
        let clock = Date.parse(AT);
        let prev: string | null = null;
        for (const step of steps) {
          clock += step;
          const s = nextStamp(prev, new Date(clock));
          if (prev !== null) expect(s > prev).toBe(true);
          expect(Date.parse(s)).toBeGreaterThanOrEqual(clock);
          prev = s;
        }
      }),
    );
  });

  it("a page walk with checkpoints visits every document once, whatever the ties", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 1, maxLength: 4 })), { selector: (t) => t[1] }), fc.integer({ min: 1, max: 5 }), (rows, limit) => {
        const docs = rows.map(([ms, id]) => ({ updatedAt: new Date(Date.parse(AT) + ms).toISOString(), id })).sort(compareCheckpoints);
        const seen: string[] = [];
        let cp = null as ReturnType<typeof checkpointAfter>;
        for (;;) {
          const page = docs.filter((d) => isAfterCheckpoint(d, cp)).slice(0, limit);
          if (page.length === 0) break;
          seen.push(...page.map((d) => d.id));
          cp = checkpointAfter(page, cp);
        }
        expect(seen).toEqual(docs.map((d) => d.id));
      }),
    );
  });
});

describe("the outbox", () => {
  it("every kind has a payload schema", () => {
    for (const k of OUTBOX_KINDS) expect(OUTBOX_PAYLOAD_SCHEMAS[k]).toBeDefined();
    expect(OUTBOX_PAYLOAD_SCHEMAS["request.decline"].safeParse({ id: "r1", reason: "" }).success).toBe(false);
  });

  it("a write that reached the server 10 s or more after it was made counts as made offline", () => {
    expect(offlineTime("2026-11-27T09:59:59.000Z", new Date(AT))).toBeNull();
    expect(offlineTime("2026-11-27T09:59:50.000Z", new Date(AT))).toBe("2026-11-27T09:59:50.000Z");
    expect(offlineTime("2026-11-27T10:00:00+01:00", new Date(AT))).toBe("2026-11-27T09:00:00.000Z");
  });

  it("a new entry waits to sync", () => {
    const e = newOutboxEntry("id-12345678", "request.decline", { id: "r1", reason: "no" }, new Date(AT));
    expect(e).toMatchObject({ status: "waiting", message: null, serverAt: null, result: null, clientAt: AT, _deleted: false });
  });
});

describe("messages for a decision that lost a race", () => {
  const now = new Date("2026-11-27T10:05:00.000Z");
  it("says who decided and how long before", () => {
    const request = { status: "declined" as const, decidedAt: "2026-11-27T10:02:00.000Z", decidedBy: { type: "user" as const, id: "u2", name: "dana@example.com" }, endsAt: null, revokedBy: null, user: "alice" };
    expect(lostRaceMessage("request.approve", request, now, "2026-11-27T10:01:00.000Z")).toBe(
      "Declined by dana@example.com 3 min before your approval reached the server. You decided at 10:01 UTC, offline; a decision counts when it reaches the server.",
    );
    expect(lostRaceMessage("request.approve", request, now, "2026-11-27T10:03:00.000Z")).toBe("Declined by dana@example.com 3 min before your approval reached the server.");
  });
  it("a revoke of approved access did not lose", () => {
    expect(lostRaceMessage("request.revoke", { status: "approved", decidedAt: AT, decidedBy: null, endsAt: null, revokedBy: null, user: "a" }, now, null)).toBeNull();
  });
  it("intervals read well", () => {
    expect(describeInterval(40_000)).toBe("40 s");
    expect(describeInterval(180_000)).toBe("3 min");
    expect(describeInterval(7_500_000)).toBe("2 h 5 min");
  });
});

describe("role filtering", () => {
  it("every role replicates every collection today (outbox: its own entries)", () => {
    expect(collectionsFor("auditor")).toEqual([...SYNC_COLLECTIONS]);
    expect(collectionsFor("owner")).toEqual([...SYNC_COLLECTIONS]);
  });
});
