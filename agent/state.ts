// The agent's on-disk state: where it lives, how files are replaced atomically, and the zod schemas of each file.
// Everything read back from disk is parsed like remote input: a hand-edited or half-written file must not be trusted.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";

export const STATE_FILES = {
  config: "config.json",
  bundle: "bundle.json",
  trust: "trust.json",
  state: "state.json",
} as const;

/** `--state-dir`, else $JIT_AGENT_STATE_DIR, else /var/lib/jit-agent for root, else ~/.local/state/jit-agent. */
export function resolveStateDir(
  flag: string | undefined,
  env: Record<string, string | undefined> = process.env,
  uid: number | undefined = process.getuid?.(),
  home: () => string = homedir,
): string {
  if (flag) return resolve(flag);
  const fromEnv = env.JIT_AGENT_STATE_DIR?.trim();
  if (fromEnv) return resolve(fromEnv);
  if (uid === 0) return "/var/lib/jit-agent";
  return join(home(), ".local", "state", "jit-agent");
}

/** Creates the state directory if needed and keeps it private (0700): it holds the computer's credential. */
export async function ensureStateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
}

/**
 * Replaces a file so that a reader sees the old content or the new, never a mix, even across a crash:
 * write a temp file in the same directory (same file system, so rename is atomic), fsync it, rename over the
 * target, then fsync the directory so the rename itself is durable.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    // "wx": never follow or reuse an existing file at the temp name.
    handle = await fs.open(tmp, "wx", mode);
    await handle.writeFile(data, "utf8");
    // The process umask may have narrowed the mode, never widened it; chmod makes it exact either way.
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch {
    // Some platforms and file systems cannot fsync a directory; the rename has happened either way.
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** A state file that exists but cannot be trusted: its path, and what to do about it. */
export class StateFileError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.name = "StateFileError";
    this.path = path;
  }
}

/** Reads and parses a JSON file; undefined when it does not exist. Anything else unreadable throws. */
export async function readJsonFile(path: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StateFileError(path, `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new StateFileError(path, `${path} is not valid JSON`);
  }
}

export const AgentConfigSchema = z.object({
  /** The server's base URL, without a trailing slash (the first of `servers` when there are several). */
  server: z.url(),
  /** Every server this computer may talk to, in order (`enroll --server A --server B`); absent means just `server`. */
  servers: z.array(z.url()).min(1).max(32).optional(),
  computer: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  agentToken: z.string().min(1),
  /** The server's Ed25519 public key (SPKI PEM) that every bundle must verify with. */
  publicKey: z.string().min(1),
  keyId: z.string(),
  enrolledAt: z.string(),
});
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

/** The rollback guard: the highest bundle version ever accepted, and when it was accepted. */
export const TrustRecordSchema = z.object({
  highestVersion: z.number().int().positive(),
  lastSyncAt: z.string(),
});
export type TrustRecord = z.infer<typeof TrustRecordSchema>;

/** How the last talks with the server went, for `status`. Not security relevant. */
export const SyncStateSchema = z.object({
  lastAttemptAt: z.string().nullable(),
  /** The last time the server answered a bundle pull with a bundle we accepted or "unchanged". */
  lastSyncAt: z.string().nullable(),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
});
export type SyncState = z.infer<typeof SyncStateSchema>;
export const EMPTY_SYNC_STATE: SyncState = { lastAttemptAt: null, lastSyncAt: null, lastError: null };

function parseFile<S extends z.ZodType>(schema: S, path: string, value: unknown, advice: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first && first.path.length ? ` at ${first.path.map(String).join(".")}` : "";
    throw new StateFileError(path, `${path} is not a valid agent file${where}: ${first?.message ?? "invalid"}; ${advice}`);
  }
  return r.data;
}

/** The files of one state directory. */
export class StateStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  path(file: keyof typeof STATE_FILES): string {
    return join(this.dir, STATE_FILES[file]);
  }

  async loadConfig(): Promise<AgentConfig | null> {
    const p = this.path("config");
    const raw = await readJsonFile(p);
    if (raw === undefined) return null;
    return parseFile(AgentConfigSchema, p, raw, "enroll again with `jit-agent enroll --force`");
  }

  async saveConfig(config: AgentConfig): Promise<void> {
    await ensureStateDir(this.dir);
    await writeFileAtomic(this.path("config"), JSON.stringify(config, null, 2) + "\n");
  }

  async loadTrust(): Promise<TrustRecord | null> {
    const p = this.path("trust");
    const raw = await readJsonFile(p);
    if (raw === undefined) return null;
    // A damaged rollback guard is not silently reset: that would let an older bundle back in.
    return parseFile(TrustRecordSchema, p, raw, "enroll again with `jit-agent enroll --force` to reset it");
  }

  async saveTrust(trust: TrustRecord): Promise<void> {
    await writeFileAtomic(this.path("trust"), JSON.stringify(trust, null, 2) + "\n");
  }

  /** The cached signed envelope as stored, unparsed: it must go through acceptBundle() before use. */
  async readBundleEnvelope(): Promise<unknown | undefined> {
    return readJsonFile(this.path("bundle"));
  }

  async writeBundleEnvelope(envelope: unknown): Promise<void> {
    await writeFileAtomic(this.path("bundle"), JSON.stringify(envelope) + "\n");
  }

  /** Status bookkeeping: an unreadable state.json is treated as empty rather than failing a command. */
  async loadSyncState(): Promise<SyncState> {
    try {
      const raw = await readJsonFile(this.path("state"));
      const r = SyncStateSchema.safeParse(raw);
      return r.success ? r.data : { ...EMPTY_SYNC_STATE };
    } catch {
      return { ...EMPTY_SYNC_STATE };
    }
  }

  async saveSyncState(state: SyncState): Promise<void> {
    await writeFileAtomic(this.path("state"), JSON.stringify(state, null, 2) + "\n");
  }

  /** Forgets the previous enrollment's bundle, rollback guard and status (a new computer starts at its own version 1). */
  async clearEnrollmentData(): Promise<void> {
    for (const f of ["bundle", "trust", "state"] as const) await fs.rm(this.path(f), { force: true });
  }
}
