// Wiring the enforcement back end into `jit-agent run`: nothing at all in `report` mode (the agent only decides and
// logs, as before); in `sudo` mode the rights are reconciled first, then the local socket opens for `jit`.
import type { Logger } from "pino";
import { CliError } from "../args";
import { StateFileError, type StateStore } from "../state";
import { SudoEnforcer } from "./enforcer";
import { startLocalApi } from "./local-api";
import { localHandlers } from "./local-handlers";
import { loadEnforceSettings } from "./settings";

export type Enforcement = { enforcer: SudoEnforcer; onBundleApplied: () => Promise<void>; stop: () => Promise<void> };

export async function startEnforcement(store: StateStore, logger: Logger, onSubmitted?: () => void): Promise<Enforcement | null> {
  let settings;
  try {
    settings = await loadEnforceSettings(store);
  } catch (e) {
    if (e instanceof StateFileError) throw new CliError(e.message);
    throw e;
  }
  if (settings.mode !== "sudo") return null;
  if (process.getuid?.() !== 0) throw new CliError("enforce: sudo needs the agent to run as root (it writes sudo rights); run it as root or set `jit-agent enforce report`");
  const enforcer = new SudoEnforcer({ store, settings, logger });
  await enforcer.start();
  let api;
  try {
    api = await startLocalApi(settings.socket, localHandlers(store, enforcer, onSubmitted), (e) => logger.error({ event: "local_api_error", message: (e as Error).message }, "local socket error"));
  } catch (e) {
    await enforcer.stop();
    throw new CliError(`cannot open the local socket ${settings.socket}: ${(e as Error).message}`);
  }
  logger.info({ event: "enforce_started", mode: "sudo", dropIn: `${settings.dropInDir}/${settings.dropInName}`, socket: settings.socket }, "sudo enforcement on");
  return {
    enforcer,
    onBundleApplied: () => enforcer.refresh("bundle_applied"),
    stop: async () => {
      await api.close();
      await enforcer.stop();
    },
  };
}
