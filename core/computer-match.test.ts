import { describe, expect, it } from "vitest";
import { computerEntryMatches, policyCoversComputer } from "./computer-match";

describe("computer names and patterns", () => {
  it.each([
    ["build-01", "build-01", true],
    ["BUILD-01", "build-01", true],
    ["build-*", "build-01", true],
    ["build-*", "Build-Server", true],
    ["build-*", "build", false],
    ["build-*", "rebuild-01", false],
    ["*-01", "web-01", true],
    ["web-0?", "web-07", true],
    ["web-0?", "web-017", false],
    ["web.1", "webx1", false],
    ["*", "anything", true],
  ])("%s names %s: %s", (entry, name, expected) => {
    expect(computerEntryMatches(entry, name)).toBe(expected);
  });

  it("a policy covers a computer when any entry names it", () => {
    expect(policyCoversComputer(["db-01", "build-*"], "build-7")).toBe(true);
    expect(policyCoversComputer(["db-01", "build-*"], "web-1")).toBe(false);
  });
});
