// The agent's mode as `status` reports it: whether decisions come from a freshly synced, a cached, or a stale bundle.
export type AgentMode = "live" | "cached" | "stale" | "none";

/**
 * none: no trusted bundle; stale: the bundle's validUntil has passed (decide() denies everything);
 * live: the last talk with the server succeeded; cached: it failed, and decisions come from the valid cache.
 */
export function agentMode(input: { validUntil: string | null; lastAttemptFailed: boolean; now: Date }): AgentMode {
  if (input.validUntil === null) return "none";
  const until = Date.parse(input.validUntil);
  if (!(until > input.now.getTime())) return "stale";
  return input.lastAttemptFailed ? "cached" : "live";
}
