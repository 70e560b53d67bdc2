// Computers: one-time enrollment tokens, enrollment (token → the computer's own credential), agent authentication.
import { AppError } from "../../core/app-error";
import type { ComputerView, ConsoleUser } from "../../core/console-api";
import { normalizeComputerName } from "../../core/names";
import type { EnrollRequest, EnrollResponse } from "../../core/protocol";
import { newId, randomToken, sha256Hex } from "../util";
import type { ComputersTable } from "../db/schema";
import type { ServiceContext } from "./context";
import { appendEvent } from "./events";
import { latestBundleVersions, markBundlesStale } from "./bundles";
import { markRequestsApplied } from "./request-grants";
import { lastSeenDue, stampForSync } from "./sync-stamps";

export const ENROLLMENT_TOKEN_TTL_MS = 24 * 3600_000;

export async function createEnrollmentToken(ctx: ServiceContext, actor: ConsoleUser): Promise<{ token: string; expiresAt: string }> {
  const now = ctx.now();
  const token = randomToken("jet_");
  const id = newId();
  const expiresAt = new Date(now.getTime() + ENROLLMENT_TOKEN_TTL_MS).toISOString();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto("enrollment_tokens")
      .values({ id, token_hash: sha256Hex(token), created_by: actor.id, created_at: now.toISOString(), expires_at: expiresAt, used_at: null, computer_id: null })
      .execute();
    await appendEvent(trx, ctx.dialect, { type: "enrollment_token.created", actor: { type: "user", id: actor.id, name: actor.email }, detail: { tokenId: id, expiresAt } }, now);
  });
  return { token, expiresAt };
}

/** Trades a one-time enrollment token for the computer's own agent token. Enrolling a known name re-enrolls it. */
export async function enrollComputer(ctx: ServiceContext, req: EnrollRequest): Promise<EnrollResponse> {
  const now = ctx.now();
  const agentToken = randomToken("jat_", 32);
  const computer = await ctx.db.transaction().execute(async (trx) => {
    const tok = await trx.selectFrom("enrollment_tokens").selectAll().where("token_hash", "=", sha256Hex(req.token)).executeTakeFirst();
    if (!tok) throw new AppError("unauthorized", "This enrollment token is not known. Make a new one in the console (Computers → Add computer).");
    if (tok.used_at) throw new AppError("unauthorized", `This enrollment token was already used at ${tok.used_at}. Each token enrolls one computer: make a new one.`);
    if (Date.parse(tok.expires_at) <= now.getTime()) throw new AppError("unauthorized", `This enrollment token expired at ${tok.expires_at}. Make a new one.`);
    // Mark it used first, conditionally, so two enrollments racing with one token cannot both win.
    const used = await trx.updateTable("enrollment_tokens").set({ used_at: now.toISOString() }).where("id", "=", tok.id).where("used_at", "is", null).executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) throw new AppError("unauthorized", "This enrollment token was already used.");
    const nameKey = normalizeComputerName(req.name);
    const existing = await trx.selectFrom("computers").select(["id"]).where("name_key", "=", nameKey).executeTakeFirst();
    const id = existing?.id ?? newId();
    const values = { name: req.name, name_key: nameKey, os: req.os, agent_version: req.agentVersion, token_hash: sha256Hex(agentToken), last_seen_at: now.toISOString() };
    if (existing) await trx.updateTable("computers").set(values).where("id", "=", id).execute();
    else await trx.insertInto("computers").values({ id, ...values, enrolled_at: now.toISOString(), applied_bundle_version: null }).execute();
    await trx.updateTable("enrollment_tokens").set({ computer_id: id }).where("id", "=", tok.id).execute();
    await appendEvent(
      trx,
      ctx.dialect,
      { type: existing ? "computer.re_enrolled" : "computer.enrolled", actor: { type: "computer", id, name: req.name }, computerId: id, detail: { tokenId: tok.id, os: req.os, agentVersion: req.agentVersion } },
      now,
    );
    return { id, name: req.name };
  });
  ctx.feed.publish({ kind: "computers" });
  await markBundlesStale(ctx, [computer.id]);
  return { computer, agentToken, publicKey: ctx.signingKey.publicKeyPem, keyId: ctx.signingKey.keyId, serverTime: now.toISOString() };
}

export type AgentIdentity = { id: string; name: string };

export async function authenticateAgent(ctx: ServiceContext, bearer: string | null): Promise<AgentIdentity | null> {
  if (!bearer || !bearer.startsWith("jat_") || bearer.length > 200) return null;
  const row = await ctx.db.selectFrom("computers").select(["id", "name"]).where("token_hash", "=", sha256Hex(bearer)).executeTakeFirst();
  return row ?? null;
}

/** Notes that the agent was seen, and which bundle version it says it applied. */
export async function touchComputer(ctx: ServiceContext, id: string, report: { appliedVersion: number | null; agentVersion: string | null }): Promise<void> {
  const now = ctx.now();
  const before = await ctx.db.selectFrom("computers").select(["applied_bundle_version", "agent_version"]).where("id", "=", id).executeTakeFirst();
  await ctx.db
    .updateTable("computers")
    .set({
      last_seen_at: now.toISOString(),
      ...(report.appliedVersion !== null ? { applied_bundle_version: report.appliedVersion } : {}),
      ...(report.agentVersion ? { agent_version: report.agentVersion } : {}),
    })
    .where("id", "=", id)
    .execute();
  // The console's store: a new bundle or agent version at once, the last-seen time alone at most every 30 s.
  const changed = before && ((report.appliedVersion !== null && report.appliedVersion !== before.applied_bundle_version) || (report.agentVersion && report.agentVersion !== before.agent_version));
  if (before && (changed || (await lastSeenDue(ctx.db, id, now)))) await stampForSync(ctx.db, ctx.dialect, [{ collection: "computers", id }], now, ctx.feed);
  if (report.appliedVersion !== null) await markRequestsApplied(ctx, id, report.appliedVersion);
}

export async function listComputers(ctx: ServiceContext): Promise<ComputerView[]> {
  const rows = await ctx.db.selectFrom("computers").selectAll().orderBy("name_key").execute();
  const latest = await latestBundleVersions(ctx);
  return rows.map((r) => toComputerView(r, latest));
}

/** A computer as the console shows it (its list, and the replicated computers collection). */
export function toComputerView(r: ComputersTable, latestBundleVersion: Map<string, number>): ComputerView {
  return {
    id: r.id,
    name: r.name,
    os: r.os,
    agentVersion: r.agent_version,
    enrolledAt: r.enrolled_at,
    lastSeenAt: r.last_seen_at,
    bundleVersion: r.applied_bundle_version,
    latestBundleVersion: latestBundleVersion.get(r.id) ?? null,
  };
}
