import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareDebianVersions, parseDebianVersion, parseVersionRange, versionInRange } from "./debian-version";

const cmp = (a: string, b: string) => Math.sign(compareDebianVersions(parseDebianVersion(a)!, parseDebianVersion(b)!));

describe("Debian version order", () => {
  it.each([
    ["1.0", "1.0", 0],
    ["1.0", "1.1", -1],
    ["1.10", "1.9", 1],
    ["1.0~rc1", "1.0", -1],
    ["1.0~~", "1.0~", -1],
    ["1.0", "1.0+b1", -1],
    ["1.0a", "1.0", 1],
    ["1.0-1", "1.0-2", -1],
    ["1.0-10", "1.0-9", 1],
    ["1:0.1", "2.0", 1],
    ["2.39-1", "2.39", 1],
    ["1.21.22", "1.21.3", 1],
    ["007", "7", 0],
    ["1.0.0", "1.0", 1],
    ["9.4-3+deb12u1", "9.4-3", 1],
  ])("%s vs %s → %i", (a, b, expected) => {
    expect(cmp(a, b)).toBe(expected);
    expect(cmp(b, a)).toBe(-expected || 0);
  });

  it.each(["", "a1", "1 2", "x:1", "1.0-", "1.0-a_b"])("refuses %j", (v) => {
    expect(parseDebianVersion(v)).toBeNull();
  });

  const version = fc
    .tuple(fc.nat(3), fc.stringMatching(/^[0-9][0-9a-z.+~]{0,6}$/), fc.option(fc.stringMatching(/^[0-9a-z+.~]{1,4}$/), { nil: undefined }))
    .map(([e, u, r]) => `${e > 0 ? `${e}:` : ""}${u}${r ? `-${r}` : ""}`);

  it("is a total order: antisymmetric and transitive", () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        expect(cmp(a, b)).toBe(-cmp(b, a) || 0);
        if (cmp(a, b) <= 0 && cmp(b, c) <= 0) expect(cmp(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });
});

describe("version ranges", () => {
  it.each([
    ["2.39", ">=2.39", true],
    ["2.38.1", ">=2.39", false],
    ["2.9", "<3", true],
    ["3~rc1", "<3", true],
    ["3.0~rc1", "<3", false],
    ["3", "<3", false],
    ["1.5", ">=1.2 <2", true],
    ["2.0", ">=1.2 <2", false],
    ["1.1", ">=1.2 <2", false],
    ["1.21.22", ">= 1.21", true],
    ["1.21.22", "1.21.22", true],
    ["1.21.22", "=1.21.21", false],
    ["1.21.22", ">>1.21.21, <<1.22", true],
  ])("%s in %j → %s", (v, range, matched) => {
    expect(versionInRange(v, range).matched).toBe(matched);
  });

  it("says what is wrong with a range instead of matching", () => {
    expect(parseVersionRange(">=two")).toEqual({ error: expect.stringMatching(/"two" is not a version/) });
    expect(versionInRange("1.0", "")).toEqual({ matched: false, detail: "the version range is empty" });
    expect(versionInRange("not-a-version", ">=1").matched).toBe(false);
  });
});
