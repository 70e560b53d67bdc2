// The channels the dispatcher sends through. Each one is a module of its own (webhook.ts, email.ts, push.ts).
import { emailChannel } from "./email";
import { pushChannel } from "./push";
import type { Channel, NotifyConfig } from "./types";
import { webhookChannel } from "./webhook";

export function makeChannels(config: NotifyConfig): Channel[] {
  const channels: (Channel | null)[] = [webhookChannel(config), emailChannel(config), pushChannel(config)];
  return channels.filter((c): c is Channel => c !== null);
}
