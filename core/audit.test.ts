import { describe, expect, it } from "vitest";
import { csvField, csvLine, CSV_HEADER, EventFilterSchema, syslogMessage, type EventView } from "./audit";

const ev = (over: Partial<EventView> = {}): EventView => ({
  seq: 7,
  id: "0b6f5c2e-0000-4000-8000-000000000001",
  at: "2026-03-01T10:00:00.000Z",
  type: "request.submitted",
  label: "Elevation request submitted",
  actor: { type: "computer", id: "c1", name: "build-01" },
  endUser: "alice",
  policyId: null,
  computerId: "c1",
  requestId: "r1",
  detail: { justification: 'Fix "prod", now\nplease' },
  hash: "ab".repeat(32),
  prevHash: "cd".repeat(32),
  ...over,
});

describe("CSV", () => {
  it.each([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["=HYPERLINK(1)", "'=HYPERLINK(1)"],
    ["+1", "'+1"],
    ["-2", "'-2"],
    ["@x", "'@x"],
  ])("%j → %j", (input, out) => expect(csvField(input)).toBe(out));

  it("has one field per column, quoted where needed, ending in CRLF", () => {
    const line = csvLine(ev());
    expect(line.endsWith("\r\n")).toBe(true);
    expect(CSV_HEADER.split(",")).toHaveLength(13);
    expect(line).toContain('"Fix ""prod"", now\nplease"');
    expect(line.startsWith("7,2026-03-01T10:00:00.000Z,request.submitted,Elevation request submitted,computer,build-01,alice,c1,,r1,")).toBe(true);
  });
});

describe("syslog", () => {
  it("is RFC 5424 with the seq and id in structured data", () => {
    const m = syslogMessage(ev(), "host one", "123");
    expect(m).toMatch(/^<110>1 2026-03-01T10:00:00.000Z hostone jit-access 123 request.submitted \[jit@32473 seq="7" id="0b6f5c2e-0000-4000-8000-000000000001"\] \{/);
    expect(JSON.parse(m.slice(m.indexOf("] ") + 2))).toMatchObject({ seq: 7, type: "request.submitted" });
    expect(syslogMessage(ev({ type: "agent.elevation_denied" }), "h", "1").startsWith("<109>1 ")).toBe(true);
  });
});

describe("filters", () => {
  it("refuses unknown event types and bad times", () => {
    expect(EventFilterSchema.safeParse({ types: ["nope"] }).success).toBe(false);
    expect(EventFilterSchema.safeParse({ from: "yesterday" }).success).toBe(false);
    expect(EventFilterSchema.safeParse({ from: "2026-01-01T00:00:00Z", types: ["policy.created"] }).success).toBe(true);
  });
});
