// Retry delays for the daemon: exponential with full jitter (AWS "Exponential Backoff And Jitter"), so that many
// agents cut off by the same outage do not all come back in the same second.
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 60_000;

/** The upper bound of the delay before retry number `attempt` (0 for the first retry): 1 s, 2 s, 4 s … 60 s. */
export function backoffCeilingMs(attempt: number, baseMs = BACKOFF_BASE_MS, maxMs = BACKOFF_MAX_MS): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2 ** n overflows to Infinity for large n, which min() turns into the cap.
  return Math.min(maxMs, baseMs * 2 ** n);
}

/** A delay drawn uniformly from [0, ceiling]; `random` is injectable for tests. */
export function backoffDelayMs(attempt: number, random: () => number = Math.random, baseMs = BACKOFF_BASE_MS, maxMs = BACKOFF_MAX_MS): number {
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(r * backoffCeilingMs(attempt, baseMs, maxMs));
}
