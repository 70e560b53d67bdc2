// The agent's own version, sent to the server at enrollment and on every bundle pull (X-Agent-Version).
export const AGENT_VERSION = "0.1.0";
