// POST /agent/v1/events: an agent's batch of elevation reports (see core/agent-events.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import { AgentEventsRequestSchema } from "../core/agent-events";
import { AppError } from "../core/app-error";
import { readJsonBody, sendJson } from "./http-util";
import { recordAgentEvents } from "./services/agent-events";
import type { AgentIdentity } from "./services/computers";
import type { ServiceContext } from "./services/context";

export async function handleAgentEvents(services: ServiceContext, computer: AgentIdentity, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = AgentEventsRequestSchema.safeParse(await readJsonBody(req, 1024 * 1024));
  if (!parsed.success) {
    throw new AppError("bad_request", parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "));
  }
  const { accepted } = await recordAgentEvents(services, computer, parsed.data.events);
  sendJson(res, 200, { accepted });
}
