import { describe, expect, it } from "vitest";
import { formatIssue } from "./parse-result";
import { effectiveStatus, parsePolicyFile, policyActiveSpan } from "./policy";

const good = {
  name: "Build tools for the dev team",
  description: "While the new toolchain rolls out",
  computers: ["build-01"],
  users: ["alice"],
  duration: { type: "fixed", length: "2h" },
  applications: [
    { type: "fileHash", sha256: "A".repeat(64) },
    { type: "folderPath", path: "/opt/tools" },
  ],
  deploy: true,
};

const messages = (input: unknown) => {
  const r = parsePolicyFile(input);
  return r.issues ? r.issues.map(formatIssue) : [];
};

describe("the policy file schema", () => {
  it("accepts the README's example and normalises hashes", () => {
    const r = parsePolicyFile(good);
    expect(r.issues).toBeUndefined();
    expect(r.value?.applications).toEqual([
      { type: "fileHash", sha256: "a".repeat(64) },
      { type: "folderPath", path: "/opt/tools" },
    ]);
  });

  it("defaults description to empty and deploy to false", () => {
    const { description, deploy, ...rest } = good;
    void description;
    void deploy;
    expect(parsePolicyFile(rest).value).toMatchObject({ description: "", deploy: false });
  });

  it.each([
    ["a duration in words", { duration: { type: "fixed", length: "2 hours" } }, ['duration.length: expected <n>m|<n>h|<n>d, got "2 hours"']],
    ["an unknown duration type", { duration: { type: "forever" } }, ['duration.type: expected a duration type, "fixed" or "window"']],
    [
      "a window without offsets",
      { duration: { type: "window", start: "2026-03-01 09:00", end: "2026-03-01T10:00:00Z" } },
      ['duration.start: expected the start as ISO 8601 with an offset (2026-03-01T09:00:00+01:00), got "2026-03-01 09:00"'],
    ],
    ["a window that ends first", { duration: { type: "window", start: "2026-03-01T10:00:00Z", end: "2026-03-01T09:00:00Z" } }, ["duration.end: the window must end after it starts"]],
    ["users as a lone name", { users: "alice" }, ['users: expected "all" or a list of user names, got "alice"']],
    ["no users", { users: [] }, ['users: name at least one user, or "all"']],
    ["no computers", { computers: [] }, ["computers: name at least one computer"]],
    ["a short hash", { applications: [{ type: "fileHash", sha256: "abc" }] }, ['applications.0.sha256: expected a SHA-256 digest (64 hex characters), got "abc"']],
    ["a relative folder", { applications: [{ type: "folderPath", path: "tools" }] }, ['applications.0.path: expected an absolute folder path, got "tools"']],
    ["an unknown rule type", { applications: [{ type: "registry", key: "x" }] }, ["applications.0.type: expected a rule type, one of vendor, product, verifiedExecutable, fileHash, clsid, folderPath"]],
    ["a bad CLSID", { applications: [{ type: "clsid", clsid: "nope" }] }, ['applications.0.clsid: expected a CLSID like {00000000-0000-0000-0000-000000000000}, got "nope"']],
    ["applications in words", { applications: "everything" }, ['applications: expected "allAllowed" or a list of rules, got "everything"']],
    ["an unknown field", { owner: "me" }, ['unknown field "owner"']],
    ["an empty name", { name: "  " }, ["name: a name must not be empty"]],
  ])("says what is wrong with %s", (_, change, expected) => {
    expect(messages({ ...good, ...change })).toEqual(expected);
  });

  it("reports every problem at once", () => {
    expect(messages({ ...good, name: "", users: [], duration: { type: "fixed", length: "soon" } })).toHaveLength(3);
  });

  it("refuses what is not an object", () => {
    expect(messages([good])).toEqual(["expected a policy (a JSON object)"]);
  });
});

describe("policy time", () => {
  it("counts Fixed from deployment and shows a passed one as expired", () => {
    const deployed = new Date("2026-03-01T10:00:00Z");
    const span = policyActiveSpan({ type: "fixed", length: "90m" }, deployed);
    expect(span.endsAt.toISOString()).toBe("2026-03-01T11:30:00.000Z");
    const p = { status: "deployed" as const, duration: { type: "fixed" as const, length: "90m" }, deployedAt: deployed.toISOString() };
    expect(effectiveStatus(p, new Date("2026-03-01T11:29:59Z"))).toBe("deployed");
    expect(effectiveStatus(p, new Date("2026-03-01T11:30:00Z"))).toBe("expired");
  });

  it("takes a Window's own start and end, stored in UTC", () => {
    const span = policyActiveSpan({ type: "window", start: "2026-03-01T09:00:00+01:00", end: "2026-03-01T17:00:00+01:00" }, new Date());
    expect(span.startsAt.toISOString()).toBe("2026-03-01T08:00:00.000Z");
    expect(span.endsAt.toISOString()).toBe("2026-03-01T16:00:00.000Z");
  });
});
