// The agent's enforcement settings (enforce.json in the state directory, set with `jit-agent enforce`):
// the back end (`report` only decides and logs, as before; `sudo` writes sudo rights), where the drop-in and the
// local socket live, and what happens to processes started under a grant when it ends.
import { join } from "node:path";
import { z } from "zod";
import { readJsonFile, StateFileError, writeFileAtomic, ensureStateDir, type StateStore } from "../state";
import { DROP_IN_NAME } from "./install";

export const DEFAULT_SOCKET = "/run/jit-agent/agent.sock";

export const EnforceSettingsSchema = z.object({
  mode: z.enum(["report", "sudo"]).default("report"),
  dropInDir: z.string().startsWith("/").default("/etc/sudoers.d"),
  dropInName: z.string().regex(DROP_IN_NAME, "letters, digits, _ and - only (sudo ignores other names)").default("jit-access"),
  socket: z.string().startsWith("/").default(DEFAULT_SOCKET),
  /** When a grant ends: "end" its `jit run` processes (SIGTERM, then SIGKILL after graceSeconds) or let them "finish". */
  onEnd: z.enum(["end", "finish"]).default("end"),
  graceSeconds: z.number().int().min(0).max(3600).default(5),
});
export type EnforceSettings = z.infer<typeof EnforceSettingsSchema>;

export const enforceSettingsPath = (store: StateStore) => join(store.dir, "enforce.json");

export async function loadEnforceSettings(store: StateStore): Promise<EnforceSettings> {
  const p = enforceSettingsPath(store);
  const raw = await readJsonFile(p);
  const r = EnforceSettingsSchema.safeParse(raw ?? {});
  if (!r.success) throw new StateFileError(p, `${p} is not valid: ${r.error.issues[0]?.message ?? "invalid"}; fix it with \`jit-agent enforce\``);
  return r.data;
}

export async function saveEnforceSettings(store: StateStore, s: EnforceSettings): Promise<void> {
  await ensureStateDir(store.dir);
  await writeFileAtomic(enforceSettingsPath(store), JSON.stringify(s, null, 2) + "\n");
}
