import { describe, expect, it } from "vitest";
import { BACKOFF_MAX_MS, backoffCeilingMs, backoffDelayMs } from "./backoff";

describe("backoff", () => {
  it.each([
    [0, 1_000],
    [1, 2_000],
    [2, 4_000],
    [5, 32_000],
    [6, 60_000],
    [7, 60_000],
    [5_000, 60_000],
  ])("retry %i waits at most %i ms", (attempt, ceiling) => {
    expect(backoffCeilingMs(attempt)).toBe(ceiling);
    expect(backoffDelayMs(attempt, () => 0)).toBe(0);
    expect(backoffDelayMs(attempt, () => 1)).toBe(ceiling);
    expect(backoffDelayMs(attempt, () => 0.5)).toBe(ceiling / 2);
  });

  it("draws every delay within [0, ceiling] (full jitter)", () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffDelayMs(attempt);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(Math.min(BACKOFF_MAX_MS, 1_000 * 2 ** attempt));
      }
    }
  });

  it("treats a negative or fractional attempt as the first", () => {
    expect(backoffCeilingMs(-3)).toBe(1_000);
    expect(backoffCeilingMs(0.7)).toBe(1_000);
  });
});
