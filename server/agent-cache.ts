// What keeps a conditional bundle pull that changed nothing off the database: this server's memory of each agent's
// credential and of each computer's latest bundle version, kept fresh by the change feed (a bundle change for the
// computer, or "all", forgets its version; a computers change forgets credentials; a resync forgets everything),
// and the agent's check-in (last seen, applied version) written at once when the applied version changes, otherwise
// at most once per TOUCH_EVERY_MS per computer. Whatever changes or revokes an agent credential must publish
// `{ kind: "computers" }` (enrollment does), or a revoked token is still accepted here for up to CACHE_TTL_MS.
import { sha256Hex } from "./util";
import type { ServiceContext } from "./services/context";
import { currentBundle, type BundleComputer } from "./services/bundles";
import { authenticateAgent, touchComputer, type AgentIdentity } from "./services/computers";
import type { SignedBundle } from "../core/bundle";

/** A remembered version or credential is checked against the database again after this long, whatever happens. */
export const CACHE_TTL_MS = 60_000;
/** Last-seen is written at most this often per computer (an applied-version change is written at once). */
export const TOUCH_EVERY_MS = 30_000;

type Remembered<T> = { value: T; until: number };
type Touch = { at: number; appliedVersion: number | null; agentVersion: string | null };

export type AgentCache = ReturnType<typeof createAgentCache>;

export function createAgentCache(services: ServiceContext) {
  const versions = new Map<string, Remembered<number>>();
  const credentials = new Map<string, Remembered<AgentIdentity>>();
  const touched = new Map<string, Touch>();
  // Bumped by every forgetting: a read that overlapped a change is not remembered (it may predate the change).
  let generation = 0;
  let credentialGeneration = 0;
  const clock = () => services.now().getTime();

  const unsubscribe = services.feed.subscribe((c) => {
    if (c.kind === "bundle") {
      generation++;
      if (c.computerIds === "all") versions.clear();
      else for (const id of c.computerIds) versions.delete(id);
    } else if (c.kind === "computers") {
      credentialGeneration++;
      credentials.clear();
    } else if (c.kind === "resync") {
      generation++;
      credentialGeneration++;
      versions.clear();
      credentials.clear();
    }
  });

  function fresh<T>(map: Map<string, Remembered<T>>, key: string): T | null {
    const r = map.get(key);
    if (!r) return null;
    if (r.until <= clock()) {
      map.delete(key);
      return null;
    }
    return r.value;
  }

  return {
    /** The computer behind an agent token, from memory when this server saw it lately. */
    async authenticate(bearer: string | null): Promise<AgentIdentity | null> {
      if (!bearer) return null;
      const key = sha256Hex(bearer);
      const known = fresh(credentials, key);
      if (known) return known;
      const startedAt = credentialGeneration;
      const found = await authenticateAgent(services, bearer);
      if (found && startedAt === credentialGeneration) credentials.set(key, { value: found, until: clock() + CACHE_TTL_MS });
      return found;
    },

    /** The computer's latest bundle version as last read here, or null when it must be read again. */
    latestVersion(computerId: string): number | null {
      return fresh(versions, computerId);
    },

    /** The current signed bundle (from the database, rebuilt when stale), remembered until it needs a rebuild. */
    async current(computer: BundleComputer): Promise<SignedBundle> {
      const startedAt = generation;
      const signed = await currentBundle(services, computer);
      if (generation === startedAt) {
        // currentBundle rebuilds at half the validity: the remembered version must not outlive that.
        const halfLife = Date.parse(signed.bundle.issuedAt) + services.bundleValidityMs / 2 - clock();
        versions.set(computer.id, { value: signed.bundle.version, until: clock() + Math.max(0, Math.min(CACHE_TTL_MS, halfLife)) });
      }
      return signed;
    },

    /** The agent checked in: write last-seen (coalesced) and the applied version (at once when it changed). */
    async touch(computerId: string, report: { appliedVersion: number | null; agentVersion: string | null }): Promise<void> {
      const now = clock();
      const last = touched.get(computerId);
      const changed = !last || (report.appliedVersion !== null && report.appliedVersion !== last.appliedVersion) || (report.agentVersion !== null && report.agentVersion !== last.agentVersion);
      if (!changed && now - last.at < TOUCH_EVERY_MS) return;
      touched.set(computerId, { at: now, appliedVersion: report.appliedVersion ?? last?.appliedVersion ?? null, agentVersion: report.agentVersion ?? last?.agentVersion ?? null });
      try {
        await touchComputer(services, computerId, report);
      } catch (e) {
        touched.delete(computerId);
        throw e;
      }
    },

    close: unsubscribe,
  };
}
