import { describe, expect, it } from "vitest";
import { isLostRace, refusalInDialog } from "./refusal-text";

describe("refusalInDialog", () => {
  it.each([
    ["Declined by dana@example.com 2 s before your approval reached the server.", "Already declined by dana@example.com 2 s before your approval reached the server."],
    ["Approved by owner@example.com 0 s before your decline reached the server.", "Already approved by owner@example.com 0 s before your decline reached the server."],
    ["Refused: your role is now Auditor, which may not do this (requests.decide).", "Refused: your role is now Auditor, which may not do this (requests.decide)."],
    [null, "The server refused this decision."],
  ])("%s", (given, shown) => expect(refusalInDialog(given)).toBe(shown));
});

describe("isLostRace", () => {
  it("tells a lost race from another refusal", () => {
    expect(isLostRace("Already declined by dana@example.com 2 s before your approval reached the server.")).toBe(true);
    expect(isLostRace("Refused: your role is now Auditor.")).toBe(false);
  });
});
