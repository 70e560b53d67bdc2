// Agent event reports: each one on the audit trail once (idempotent by the agent's event id), with the computer
// as the actor and the end user named.
import type { AgentEvent } from "../../core/agent-events";
import type { EventType } from "../../core/events";
import type { ServiceContext } from "./context";
import type { AgentIdentity } from "./computers";
import { appendEvent } from "./events";

const TYPES: Record<AgentEvent["type"], EventType> = {
  elevation_allowed: "agent.elevation_allowed",
  elevation_denied: "agent.elevation_denied",
  grant_ended: "agent.grant_ended",
  process_ended: "agent.process_ended",
};

export async function recordAgentEvents(ctx: ServiceContext, computer: AgentIdentity, events: AgentEvent[]): Promise<{ accepted: string[]; recorded: number }> {
  const now = ctx.now();
  let recorded = 0;
  await ctx.db.transaction().execute(async (trx) => {
    const ids = events.map((e) => e.id);
    const known = new Set((await trx.selectFrom("events").select("id").where("id", "in", ids).execute()).map((r) => r.id));
    for (const e of events) {
      if (known.has(e.id)) continue;
      known.add(e.id);
      await appendEvent(
        trx,
        ctx.dialect,
        {
          id: e.id,
          type: TYPES[e.type],
          actor: { type: "computer", id: computer.id, name: computer.name },
          computerId: computer.id,
          endUser: e.user,
          policyId: e.source?.type === "policy" ? e.source.id : null,
          requestId: e.requestId,
          detail: {
            occurredAt: new Date(e.at).toISOString(),
            ...(e.app ? { app: e.app } : {}),
            ...(e.source ? { source: e.source } : {}),
            ...(e.reason ? { reason: e.reason } : {}),
            ...(e.expiresAt ? { expiresAt: e.expiresAt } : {}),
            ...(e.bundleVersion ? { bundleVersion: e.bundleVersion } : {}),
          },
        },
        now,
      );
      recorded += 1;
    }
  });
  // Consoles replicating the newest events pull them now (issue 5).
  if (recorded > 0) ctx.feed.publish({ kind: "sync", collections: ["events"] });
  return { accepted: events.map((e) => e.id), recorded };
}
