// What bench/propagation and bench/scale share: simulated agents that hold their newest bundle with long-polls
// (as jit-agent does) and note when each grant first reaches them, and the small helpers around them.
import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { acceptBundle, type Bundle } from "../core/bundle";
import { bundleEtag } from "../core/protocol";

export const rssMb = (pid: number): number => Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024);
export const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Runs fn over items, `width` at a time. */
export async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

export type SimAgent = {
  i: number;
  id: string;
  token: string;
  /** The server this agent talks to. */
  url: string;
  version: number | null;
  requestId: string | null;
  /** Resolvers waiting for a grant to arrive. */
  waiters: Map<string, (at: number) => void>;
  /** When each grant first arrived (performance.now()). */
  got: Map<string, number>;
};

export const simAgent = (i: number, id: string, token: string, url: string): SimAgent => ({ i, id, token, url, version: null, requestId: null, waiters: new Map(), got: new Map() });

/**
 * Every agent takes its first bundle, then parks a long-poll for the next one, at once again after each answer,
 * until stop(). Resolves `ready` when every agent holds a bundle.
 */
export function holdBundles(agents: SimAgent[], verify: (msg: Uint8Array, sig: Uint8Array) => boolean): { ready: Promise<void>; stop: () => Promise<void> } {
  let stopping = false;
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // every long-poll listens on it
  const loops = agents.map(async (a) => {
    while (!stopping) {
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${a.token}` };
        if (a.version !== null) Object.assign(headers, { "if-none-match": bundleEtag(a.version), "x-bundle-version": String(a.version) });
        const r = await fetch(`${a.url}/agent/v1/bundle?wait=${a.version === null ? 0 : 55}`, { headers, signal: controller.signal });
        if (r.status === 304) {
          await r.body?.cancel();
          continue;
        }
        const envelope = await r.json();
        const at = performance.now();
        const ok = acceptBundle(envelope, { verify, computerId: a.id, lastTrustedVersion: a.version, now: new Date() });
        if ("refused" in ok) throw new Error(`agent ${a.i} refused a bundle: ${ok.refused.message}`);
        a.version = ok.bundle.version;
        for (const g of (ok.bundle as Bundle).grants) {
          if (!a.got.has(g.requestId)) {
            a.got.set(g.requestId, at);
            a.waiters.get(g.requestId)?.(at);
          }
        }
      } catch (e) {
        if (!stopping) throw e;
      }
    }
  });
  const ready = (async () => {
    while (agents.some((a) => a.version === null)) await new Promise((r) => setTimeout(r, 50));
  })();
  return {
    ready,
    stop: async () => {
      stopping = true;
      controller.abort();
      await Promise.allSettled(loops);
    },
  };
}
