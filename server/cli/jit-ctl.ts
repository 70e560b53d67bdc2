// `jit-ctl`: the admin's command line, a tRPC client of the server.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { z } from "zod";
import { describeAppRule } from "../../core/app-rule";
import { formatIssue, type ParseIssue } from "../../core/parse-result";
import { parsePolicyFile } from "../../core/policy";
import type { AppRouter } from "../routers";
import { readSecret } from "./prompt";

const USAGE = `usage: jit-ctl <command> [options]

commands:
  login --server URL --email E      sign in (password from JIT_PASSWORD or a prompt); keeps the session
                                    token in ~/.config/jit-access/credentials.json (mode 0600)
  logout                            end the session on the server and forget it here
  enroll-token create [--json]      make a one-time enrollment token (valid 24 h) and the command to enroll
  policy apply -f FILE|-            create or update a policy from a JSON policy file (idempotent by name)
  policy list [--json]              the policies with their status
  computers list [--json]           the enrolled computers

options for every command: --server URL (or JIT_SERVER); JIT_TOKEN overrides the saved session token.
exit codes: 0 done, 1 failed, 2 bad usage or bad input.`;

class UsageError extends Error {}
class InputError extends Error {}

const CredentialsFileSchema = z.object({ server: z.string(), token: z.string(), email: z.string(), expiresAt: z.string() });

function configDir(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "jit-access");
}
const credentialsPath = () => join(configDir(), "credentials.json");

function loadCredentials(): z.infer<typeof CredentialsFileSchema> | null {
  try {
    const r = CredentialsFileSchema.safeParse(JSON.parse(readFileSync(credentialsPath(), "utf8")));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

function saveCredentials(creds: z.infer<typeof CredentialsFileSchema>): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const tmp = join(dir, `.credentials.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(creds, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, credentialsPath());
}

function serverUrl(flag: string | undefined): string {
  const url = flag ?? process.env.JIT_SERVER ?? loadCredentials()?.server;
  if (!url) throw new UsageError("no server: pass --server URL, set JIT_SERVER, or run jit-ctl login first");
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--server: expected an http(s) URL, got "${url}"`);
  return url.replace(/\/+$/, "");
}

function client(server: string, token: string | null) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${server}/api/trpc`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
}

function signedIn(flagServer: string | undefined) {
  const server = serverUrl(flagServer);
  const token = process.env.JIT_TOKEN || loadCredentials()?.token;
  if (!token) throw new Error("not signed in: run jit-ctl login --server URL --email E (or set JIT_TOKEN)");
  return client(server, token);
}

function readInput(file: string): string {
  if (file === "-") return readFileSync(0, "utf8");
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

async function run(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  if (!command || ["help", "--help", "-h"].includes(command)) {
    console.log(USAGE);
    return;
  }
  const parse = <T extends Record<string, { type: "string" | "boolean"; short?: string }>>(args: string[], options: T) =>
    parseArgs({ args, options: { server: { type: "string" }, ...options }, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;

  if (command === "login") {
    const v = parse([sub, ...rest].filter((x): x is string => x !== undefined), { email: { type: "string" } });
    if (!v.email) throw new UsageError("login needs --email E");
    const server = serverUrl(v.server as string | undefined);
    const password = process.env.JIT_PASSWORD ?? (await readSecret(`Password for ${v.email}: `));
    const s = await client(server, null).auth.createCliSession.mutate({ email: String(v.email), password });
    saveCredentials({ server, token: s.token, email: s.user.email, expiresAt: s.expiresAt });
    console.log(`Signed in to ${server} as ${s.user.email} (${s.user.role}).`);
    return;
  }
  if (command === "logout") {
    const v = parse([sub, ...rest].filter((x): x is string => x !== undefined), {});
    const creds = loadCredentials();
    if (creds || process.env.JIT_TOKEN) await signedIn(v.server as string | undefined).auth.logout.mutate().catch(() => undefined);
    rmSync(credentialsPath(), { force: true });
    console.log("Signed out.");
    return;
  }
  if (command === "enroll-token" && sub === "create") {
    const v = parse(rest, { json: { type: "boolean" } });
    const t = await signedIn(v.server as string | undefined).computers.createEnrollmentToken.mutate();
    if (v.json) console.log(JSON.stringify({ token: t.token, expiresAt: t.expiresAt, command: t.command }));
    else console.log(`Enrollment token (works once, until ${t.expiresAt}):\n  ${t.token}\n\nOn the computer, run:\n  ${t.command}`);
    return;
  }
  if (command === "policy" && sub === "apply") {
    const v = parse(rest, { file: { type: "string", short: "f" } });
    if (!v.file) throw new UsageError("policy apply needs -f FILE (or -f - for standard input)");
    const text = readInput(String(v.file));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new InputError(`${v.file}: not valid JSON (${(e as Error).message})`);
    }
    const parsed = parsePolicyFile(json);
    if (parsed.issues) throw new InputError(parsed.issues.map(formatIssue).join("\n"));
    const r = await signedIn(v.server as string | undefined).policies.upsert.mutate(json);
    const what = r.created ? "created" : r.changed ? `updated to revision ${r.policy.revision}` : "unchanged";
    console.log(`Policy "${r.policy.name}" ${what}${r.deployed ? ", deployed" : ""} (${r.policy.effectiveStatus}).`);
    return;
  }
  if (command === "policy" && sub === "list") {
    const v = parse(rest, { json: { type: "boolean" } });
    const { policies } = await signedIn(v.server as string | undefined).policies.list.query();
    if (v.json) return void console.log(JSON.stringify(policies, null, 2));
    if (policies.length === 0) return void console.log("No policies yet. Create one with jit-ctl policy apply -f FILE.");
    console.log(
      table([
        ["NAME", "STATUS", "USERS", "COMPUTERS", "DURATION", "APPLICATIONS"],
        ...policies.map((p) => [
          p.name,
          p.effectiveStatus,
          p.users === "all" ? "All users" : p.users.join(","),
          p.computers.join(","),
          p.duration.type === "fixed" ? `Fixed ${p.duration.length}` : `Window ${p.duration.start} – ${p.duration.end}`,
          p.applications === "allAllowed" ? "All Allowed Application(s)" : p.applications.map(describeAppRule).join("; "),
        ]),
      ]),
    );
    return;
  }
  if (command === "computers" && sub === "list") {
    const v = parse(rest, { json: { type: "boolean" } });
    const { computers } = await signedIn(v.server as string | undefined).computers.list.query();
    if (v.json) return void console.log(JSON.stringify(computers, null, 2));
    if (computers.length === 0) return void console.log("No computers enrolled yet. Make a token with jit-ctl enroll-token create.");
    console.log(
      table([
        ["NAME", "OS", "AGENT", "LAST SEEN", "BUNDLE"],
        ...computers.map((c) => [c.name, c.os, c.agentVersion, c.lastSeenAt ?? "never", `${c.bundleVersion ?? "-"}/${c.latestBundleVersion ?? "-"}`]),
      ]),
    );
    return;
  }
  throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(" ")}"\n\n${USAGE}`);
}

run(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof TRPCClientError) {
    const data = e.data as { code?: string; issues?: ParseIssue[] } | undefined;
    if (data?.issues?.length) {
      console.error(data.issues.map(formatIssue).join("\n"));
      process.exit(2);
    }
    if (!data) {
      console.error(`jit-ctl: cannot reach the server (${e.message})`);
      process.exit(1);
    }
    const hint = data.code === "UNAUTHORIZED" ? " (sign in again with jit-ctl login)" : "";
    console.error(`jit-ctl: ${e.message}${hint}`);
    process.exit(data?.code === "BAD_REQUEST" ? 2 : 1);
  }
  const usage = e instanceof UsageError || e instanceof InputError || (e instanceof Error && "code" in e && String((e as { code: unknown }).code).startsWith("ERR_PARSE_ARGS"));
  const msg = e instanceof Error ? e.message : String(e);
  console.error(e instanceof InputError ? msg : `jit-ctl: ${/fetch failed|ECONNREFUSED/.test(msg) ? `cannot reach the server (${msg})` : msg}`);
  process.exit(usage ? 2 : 1);
});
