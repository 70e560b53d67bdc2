// Agent protocol v1, POST /agent/v1/events: what the agent reports about elevations on its computer. Batched;
// idempotent by the event id the agent makes (a batch sent twice records each event once); the agent keeps
// each event on disk until the server acknowledged it.
import { z } from "zod";

export const AGENT_EVENT_TYPES = ["elevation_allowed", "elevation_denied", "grant_ended", "process_ended"] as const;
export const AgentEventTypeSchema = z.enum(AGENT_EVENT_TYPES);
export type AgentEventType = z.infer<typeof AgentEventTypeSchema>;

/** The most events one call may carry. */
export const AGENT_EVENTS_BATCH_MAX = 200;

export const AgentEventSchema = z.strictObject({
  id: z.uuid(),
  type: AgentEventTypeSchema,
  /** When it happened on the computer (the server records its own time as well). */
  at: z.iso.datetime({ offset: true }),
  /** The account on the computer. */
  user: z.string().trim().min(1).max(256),
  app: z
    .strictObject({
      path: z.string().max(4096),
      sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
      clsid: z.string().max(64).nullable(),
    })
    .nullable()
    .default(null),
  /** The policy or grant that allowed it (or whose grant ended). */
  source: z.strictObject({ type: z.enum(["policy", "grant"]), id: z.string().min(1).max(100), name: z.string().max(300) }).nullable().default(null),
  /** For a grant: the elevation request it came from. */
  requestId: z.string().min(1).max(100).nullable().default(null),
  reason: z.string().max(2000).default(""),
  expiresAt: z.iso.datetime({ offset: true }).nullable().default(null),
  bundleVersion: z.number().int().positive().nullable().default(null),
});
export type AgentEvent = z.infer<typeof AgentEventSchema>;
export type AgentEventInput = z.input<typeof AgentEventSchema>;

export const AgentEventsRequestSchema = z.strictObject({ events: z.array(AgentEventSchema).min(1).max(AGENT_EVENTS_BATCH_MAX) });
export type AgentEventsRequest = z.infer<typeof AgentEventsRequestSchema>;

/** Every id in the batch, newly recorded or recorded before: the agent may forget them all. */
export const AgentEventsResponseSchema = z.object({ accepted: z.array(z.string()) });
export type AgentEventsResponse = z.infer<typeof AgentEventsResponseSchema>;
