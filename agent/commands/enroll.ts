// `jit-agent enroll`: trade a one-time enrollment token for this computer's own credential and the server's key.
import { constants, promises as fs } from "node:fs";
import { hostname, platform, release } from "node:os";
import { EnrollRequestSchema } from "../../core/protocol";
import { CliError, COMMON_OPTIONS, out, parseCommandArgs, required, UsageError } from "../args";
import { AgentHttpError, enroll, normalizeServerUrl } from "../client";
import { withFailover } from "../servers";
import { ensureStateDir, StateFileError } from "../state";
import { syncOnce } from "../sync";
import { loadPublicKey } from "../trusted-bundle";
import { AGENT_VERSION } from "../version";
import { storeFor, type Command } from "./shared";

const usage = `Usage: jit-agent enroll --server URL [--server URL…] --token TOKEN [--name NAME] [--force] [--state-dir DIR]

Enrolls this computer with the JIT Access server using a one-time enrollment token,
stores its credential and the server's signing key, and pulls the first policy bundle.

  --server URL     the server's address, e.g. https://jit.example.com; with several servers, give each
                   (repeat --server, or separate with commas): the agent moves to the next when one
                   stops answering. Behind a load balancer, give its one address.
  --token TOKEN    the one-time enrollment token from the console (Computers → Add computer)
  --name NAME      the computer's name (default: this host's name)
  --force          replace an existing enrollment (its cached bundle is discarded)
  --state-dir DIR  where the agent keeps its state`;

export const enrollCommand: Command = {
  usage,
  async run(args) {
    const v = parseCommandArgs(args, {
      ...COMMON_OPTIONS,
      server: { type: "string", multiple: true },
      token: { type: "string" },
      name: { type: "string" },
      force: { type: "boolean" },
    });
    const serverTexts = (v.server ?? []).flatMap((t) => t.split(",")).map((t) => t.trim()).filter(Boolean);
    if (serverTexts.length === 0) required(undefined, "server", "URL");
    const token = required(v.token, "token", "TOKEN");
    const servers: string[] = [];
    for (const text of serverTexts) {
      const url = normalizeServerUrl(text);
      if (!url) throw new UsageError(`--server expects an http(s) URL like https://jit.example.com, got ${JSON.stringify(text)}`);
      if (!servers.includes(url)) servers.push(url);
    }
    if (servers.length > 32) throw new UsageError("--server: at most 32 servers");
    const server = servers[0]!;
    const parsed = EnrollRequestSchema.safeParse({ token, name: v.name ?? hostname(), os: `${platform()} ${release()}`, agentVersion: AGENT_VERSION });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path[0] === "name" ? (v.name === undefined ? "this host's name (give one with --name)" : "--name") : `--${String(issue?.path[0] ?? "token")}`;
      throw new UsageError(`${field}: ${issue?.message ?? "invalid"}`);
    }

    const store = storeFor(v["state-dir"]);
    let existing;
    try {
      existing = await store.loadConfig();
    } catch (e) {
      if (!(e instanceof StateFileError)) throw e;
      existing = { damaged: e.message };
    }
    if (existing && !v.force) {
      const what = "damaged" in existing ? `an enrollment exists but is damaged (${existing.damaged})` : `this computer is already enrolled as ${existing.computer.name} with ${existing.server}`;
      throw new CliError(`${what}; use --force to enroll again (state dir ${store.dir})`);
    }

    // Check we can write our state before spending the one-time token on the server.
    try {
      await ensureStateDir(store.dir);
      await fs.access(store.dir, constants.W_OK);
    } catch (e) {
      throw new CliError(`cannot use the state directory ${store.dir}: ${(e as Error).message}`);
    }

    let res;
    try {
      // The first server that answers enrolls us; all of them share one database, so any one will do.
      res = await withFailover({ server, servers, agentToken: parsed.data.token }, (s) => enroll(s, parsed.data));
    } catch (e) {
      if (e instanceof AgentHttpError && (e.kind === "unauthorized" || e.kind === "rejected")) throw new CliError(`enrollment refused: ${e.message}`);
      if (e instanceof AgentHttpError) throw new CliError(`could not enroll with ${servers.join(" or ")}: ${e.message}`);
      throw e;
    }
    try {
      loadPublicKey(res.publicKey);
    } catch (e) {
      // Fail closed: a key we cannot use would make every bundle fail, so do not pretend the enrollment worked.
      throw new CliError(`the server's signing key is unusable (${(e as Error).message}); the enrollment was not saved`);
    }

    if (v.force) await store.clearEnrollmentData();
    const config = {
      server,
      ...(servers.length > 1 ? { servers } : {}),
      computer: res.computer,
      agentToken: res.agentToken,
      publicKey: res.publicKey,
      keyId: res.keyId,
      enrolledAt: new Date().toISOString(),
    };
    await store.saveConfig(config);
    const enrolled = `Enrolled as ${res.computer.name} (id ${res.computer.id}).`;

    try {
      const r = await syncOnce(store, config, { wait: 0 });
      if (r.status === "applied") out(`${enrolled} Bundle version ${r.version} applied.`);
      else if (r.status === "unchanged") out(r.version === null ? `${enrolled} No bundle yet.` : `${enrolled} Bundle version ${r.version} applied.`);
      else out(`${enrolled} The first bundle was refused (${r.refusal.code}): ${r.refusal.message}. \`jit-agent run\` keeps trying.`);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      out(`${enrolled} Could not pull the first bundle: ${why}. \`jit-agent run\` keeps trying.`);
    }
    return 0;
  },
};
