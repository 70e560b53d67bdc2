// The channels the dispatcher sends through. Each one is a module of its own (webhook.ts, email.ts, push.ts).
import type { Channel, NotifyConfig } from "./types";

export function makeChannels(_config: NotifyConfig): Channel[] {
  return [];
}
