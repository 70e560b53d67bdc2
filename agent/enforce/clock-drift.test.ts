import { describe, expect, it } from "vitest";
import { ClockDrift } from "./clock-drift";

describe("ClockDrift", () => {
  it("is quiet while both clocks advance together, reports a suspend/resume or a clock change once", () => {
    let wall = 1_000_000;
    let mono = 50;
    const d = new ClockDrift(() => wall, () => mono);
    wall += 1_000;
    mono += 1_000;
    expect(d.check()).toBe(0);
    wall += 1_300; // timers late under load: not a jump
    mono += 1_000;
    expect(d.check()).toBe(0);
    wall += 3_600_000; // a laptop asleep for an hour: the monotonic clock did not move
    mono += 1;
    expect(d.check()).toBeGreaterThan(3_590_000);
    wall += 1_000;
    mono += 1_000;
    expect(d.check()).toBe(0);
    wall -= 120_000; // the clock set back
    expect(d.check()).toBeLessThan(-100_000);
  });
});
