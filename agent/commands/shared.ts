// What several commands need: the state directory from the flags, and the enrollment that must exist.
import { CliError } from "../args";
import { resolveStateDir, StateFileError, StateStore, type AgentConfig } from "../state";

export type Command = {
  /** Usage text, printed for --help and after a usage error. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
};

export function storeFor(stateDirFlag: string | undefined): StateStore {
  return new StateStore(resolveStateDir(stateDirFlag));
}

export async function requireConfig(store: StateStore): Promise<AgentConfig> {
  let config: AgentConfig | null;
  try {
    config = await store.loadConfig();
  } catch (e) {
    if (e instanceof StateFileError) throw new CliError(e.message);
    throw e;
  }
  if (!config) throw new CliError(`this computer is not enrolled (no ${store.path("config")}); run \`jit-agent enroll --server URL --token TOKEN\` first`);
  return config;
}
