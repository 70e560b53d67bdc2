// Durations as admins write them: "30m", "2h", "7d".
export const DURATION_PATTERN = /^([1-9][0-9]{0,5})(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds in a duration like "2h", or null when it is not one. */
export function durationMs(text: string): number | null {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** "2h" → "2 hours", for people. */
export function describeDuration(text: string): string {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m) return text;
  const n = Number(m[1]);
  const word = { m: "minute", h: "hour", d: "day" }[m[2] as "m" | "h" | "d"];
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
