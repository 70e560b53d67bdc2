// Several servers (behind no load balancer, or as a fallback to one): the agent talks to the one that answered
// last, and moves on to the next when it stops answering (refused, reset, timed out, 5xx). Every call it retries
// is idempotent on the server (bundle pulls; events by id; requests by clientRef), so moving never duplicates.
import { AgentHttpError } from "./client";
import type { AgentConfig } from "./state";

/** The servers this computer was enrolled with, in the order given. */
export function serverList(config: Pick<AgentConfig, "server" | "servers">): string[] {
  return config.servers && config.servers.length > 0 ? config.servers : [config.server];
}

/** The server that answered last, per enrollment (agent token): this process's memory, not a file. */
const lastGood = new Map<string, string>();

/** The servers to try, the one that answered last first, then the rest in their enrolled order. */
export function serversInTurn(config: Pick<AgentConfig, "server" | "servers" | "agentToken">): string[] {
  const list = serverList(config);
  const good = lastGood.get(config.agentToken);
  const at = good ? list.indexOf(good) : -1;
  return at <= 0 ? list : [...list.slice(at), ...list.slice(0, at)];
}

/** A failure another server may not have: no answer, a timeout, or a 5xx. */
export function isServerDown(e: unknown): boolean {
  return e instanceof AgentHttpError && (e.kind === "network" || e.kind === "timeout" || e.kind === "server");
}

/**
 * Calls `fn` with each server in turn until one answers (anything but "down"); remembers it for the next call.
 * When all are down, throws the last server's error. `onFailover` hears of each move, for the log.
 */
export async function withFailover<T>(
  config: Pick<AgentConfig, "server" | "servers" | "agentToken">,
  fn: (server: string) => Promise<T>,
  onFailover?: (from: string, error: AgentHttpError) => void,
): Promise<T> {
  const list = serversInTurn(config);
  let last: unknown;
  for (const server of list) {
    try {
      const result = await fn(server);
      lastGood.set(config.agentToken, server);
      return result;
    } catch (e) {
      if (!isServerDown(e) || list.length === 1) throw e;
      last = e;
      onFailover?.(server, e as AgentHttpError);
    }
  }
  throw last;
}
