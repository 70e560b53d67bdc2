// What every jit-ctl command shares: the saved session, the tRPC client, argument parsing, errors, tables.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTRPCClient, httpLink } from "@trpc/client";
import { z } from "zod";
import type { AppRouter } from "../../routers";

/** Bad usage: exit 2 with the usage line. */
export class UsageError extends Error {}
/** Bad input (a file): exit 2, the message printed as it is (one line per problem). */
export class InputError extends Error {}

export type CtlCommand = {
  /** e.g. "policy apply" */
  name: string;
  /** One usage line, as in `jit-ctl --help`. */
  usage: string;
  run: (args: string[]) => Promise<void>;
};

const CredentialsFileSchema = z.object({ server: z.string(), token: z.string(), email: z.string(), expiresAt: z.string() });
export type SavedCredentials = z.infer<typeof CredentialsFileSchema>;

function configDir(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), ".config"), "jit-access");
}
export const credentialsPath = (): string => join(configDir(), "credentials.json");

export function loadCredentials(): SavedCredentials | null {
  try {
    const r = CredentialsFileSchema.safeParse(JSON.parse(readFileSync(credentialsPath(), "utf8")));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function saveCredentials(creds: SavedCredentials): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const tmp = join(dir, `.credentials.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(creds, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, credentialsPath());
}

export function serverUrl(flag: string | undefined): string {
  const url = flag ?? process.env.JIT_SERVER ?? loadCredentials()?.server;
  if (!url) throw new UsageError("no server: pass --server URL, set JIT_SERVER, or run jit-ctl login first");
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--server: expected an http(s) URL, got "${url}"`);
  return url.replace(/\/+$/, "");
}

export function apiClient(server: string, token: string | null) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${server}/api/trpc`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
}

/** A client with the saved session (or JIT_TOKEN); refuses when there is none. */
export function signedIn(flagServer: string | undefined) {
  const server = serverUrl(flagServer);
  const token = process.env.JIT_TOKEN || loadCredentials()?.token;
  if (!token) throw new Error("not signed in: run jit-ctl login --server URL --email E (or set JIT_TOKEN)");
  return apiClient(server, token);
}

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/** Strict flags (every command also takes --server); positionals only when asked for. */
export function parseFlags<O extends OptionSpec>(args: string[], options: O, opts: { positionals?: number } = {}) {
  const r = parseArgs({ args, options: { server: { type: "string" }, ...options }, strict: true, allowPositionals: (opts.positionals ?? 0) > 0 });
  if (r.positionals.length > (opts.positionals ?? 0)) throw new UsageError(`unexpected argument "${r.positionals[opts.positionals ?? 0]}"`);
  return { values: r.values as Record<string, string | boolean | string[] | undefined>, positionals: r.positionals };
}

export function readInput(file: string): string {
  if (file === "-") return readFileSync(0, "utf8");
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
