// The agent protocol, version 1 (under /agent/v1): request and response bodies, shared by server and agent.
import { z } from "zod";
import { DurationTextSchema, RequestAppSchema, RequestViewSchema } from "./request";

export const AGENT_PROTOCOL_VERSION = 1;
export const AGENT_PROTOCOL_BASE = "/agent/v1";
/** The longest a bundle long-poll may wait, in seconds. */
export const MAX_LONG_POLL_SECONDS = 60;

export const EnrollRequestSchema = z.strictObject({
  token: z.string().trim().min(1).max(200),
  name: z
    .string()
    .trim()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a computer name holds letters, digits, '.', '_' and '-'"),
  os: z.string().trim().min(1).max(200),
  agentVersion: z.string().trim().min(1).max(50),
});
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = z.object({
  computer: z.object({ id: z.string(), name: z.string() }),
  /** The computer's own credential for every later call (Authorization: Bearer …). Shown once; the server keeps its hash. */
  agentToken: z.string(),
  /** The server's Ed25519 public key (SPKI PEM) that signs bundles. */
  publicKey: z.string(),
  keyId: z.string(),
  serverTime: z.string(),
});
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

/** Every error of the agent protocol has this body. */
export const ProtocolErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ProtocolError = z.infer<typeof ProtocolErrorSchema>;

export const BundleQuerySchema = z.object({
  wait: z.coerce.number().int().min(0).max(MAX_LONG_POLL_SECONDS).default(0),
});

/** ETag text for a bundle version: "\"12\"". */
export function bundleEtag(version: number): string {
  return `"${version}"`;
}
export function parseBundleEtag(header: string | null | undefined): number | null {
  if (!header) return null;
  const m = /^(?:W\/)?"(\d{1,15})"$/.exec(header.trim());
  return m ? Number(m[1]) : null;
}

// ── Elevation requests (issue 4): POST /requests, GET /requests?user=U, GET /requests/:id?wait=N,
//    POST /requests/:id/cancel, POST /requests/:id/done ──────────────────────────────────────────────
export const SubmitRequestSchema = z.strictObject({
  user: z.string().trim().min(1, "name the user").max(253),
  app: RequestAppSchema,
  duration: DurationTextSchema,
  justification: z.string().trim().max(2000, "the justification is at most 2000 characters"),
  /** Ask to extend this approved request's grant (a new request linked to it). */
  extendsRequestId: z.string().min(1).max(100).optional(),
  /** The agent's own id for the submission, so a queued request sent twice is recorded once. */
  clientRef: z.string().min(8).max(100).optional(),
});
export type SubmitRequest = z.infer<typeof SubmitRequestSchema>;

/** A request as the agent sees it: the console's view without the approvers' addresses. */
export const AgentRequestViewSchema = RequestViewSchema.omit({ approvals: true }).extend({ approvalsSoFar: z.number().int() });
export type AgentRequestView = z.infer<typeof AgentRequestViewSchema>;

export const AgentRequestListSchema = z.object({ requests: z.array(AgentRequestViewSchema) });
export const AgentRequestWaitSchema = z.object({
  wait: z.coerce.number().int().min(0).max(MAX_LONG_POLL_SECONDS).default(0),
});
