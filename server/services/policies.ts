// Policies: list, create, apply (an upsert by name), deploy, disable. Every change is on the audit trail and
// marks the computers' bundles for a rebuild.
import { AppError } from "../../core/app-error";
import { canonicalJson } from "../../core/canonical-json";
import type { ConsoleUser, PolicyView, ApplyPolicyResult } from "../../core/console-api";
import { effectiveStatus, parsePolicyFile, policyActiveSpan, PolicySchema, type Policy, type PolicyFile } from "../../core/policy";
import type { PoliciesTable } from "../db/schema";
import { newId } from "../util";
import type { ServiceContext } from "./context";
import { appendEvent } from "./events";
import { markBundlesStale } from "./bundles";

export function rowToPolicy(row: PoliciesTable): Policy {
  return PolicySchema.parse({
    id: row.id,
    name: row.name,
    description: row.description,
    computers: JSON.parse(row.computers),
    users: JSON.parse(row.users),
    duration: JSON.parse(row.duration),
    applications: JSON.parse(row.applications),
    status: row.status,
    revision: row.revision,
    deployedAt: row.deployed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

export function toView(policy: Policy, now: Date): PolicyView {
  const span = policy.deployedAt ? policyActiveSpan(policy.duration, new Date(policy.deployedAt)) : null;
  return {
    ...policy,
    effectiveStatus: effectiveStatus(policy, now),
    startsAt: span ? span.startsAt.toISOString() : null,
    endsAt: span ? span.endsAt.toISOString() : null,
  };
}

export async function listPolicies(ctx: ServiceContext): Promise<PolicyView[]> {
  const rows = await ctx.db.selectFrom("policies").selectAll().orderBy("updated_at", "desc").orderBy("id").execute();
  const now = ctx.now();
  return rows.map((r) => toView(rowToPolicy(r), now));
}

export async function getPolicy(ctx: ServiceContext, id: string): Promise<PolicyView> {
  const row = await ctx.db.selectFrom("policies").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) throw new AppError("not_found", "No such policy.");
  return toView(rowToPolicy(row), ctx.now());
}

/** The fields whose change makes a new revision. */
const content = (p: Pick<PolicyFile, "description" | "computers" | "users" | "duration" | "applications">) =>
  canonicalJson({ description: p.description, computers: p.computers, users: p.users, duration: p.duration, applications: p.applications });

export function parsePolicyInput(input: unknown): PolicyFile {
  const r = parsePolicyFile(input);
  if (r.issues) throw new AppError("bad_request", r.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("\n"), { issues: r.issues });
  return r.value;
}

/**
 * Creates a policy, or with mode "upsert" brings the policy of that name to the file's content (idempotent).
 * A changed policy that is deployed is redeployed as a new revision (a Fixed duration counts again from then).
 */
export async function applyPolicy(ctx: ServiceContext, file: PolicyFile, actor: ConsoleUser, mode: "create" | "upsert"): Promise<ApplyPolicyResult> {
  const now = ctx.now();
  const at = now.toISOString();
  const actorRef = { type: "user" as const, id: actor.id, name: actor.email };
  const result = await ctx.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom("policies").selectAll().where("name_key", "=", file.name.toLowerCase()).executeTakeFirst();
    const fields = {
      name: file.name,
      name_key: file.name.toLowerCase(),
      description: file.description,
      computers: JSON.stringify(file.computers),
      users: JSON.stringify(file.users),
      duration: JSON.stringify(file.duration),
      applications: JSON.stringify(file.applications),
    };
    if (!existing) {
      const id = newId();
      await trx
        .insertInto("policies")
        .values({
          id,
          ...fields,
          status: file.deploy ? "deployed" : "draft",
          revision: 1,
          deployed_at: file.deploy ? at : null,
          created_by: actor.id,
          created_at: at,
          updated_at: at,
        })
        .execute();
      await appendEvent(trx, ctx.dialect, { type: "policy.created", actor: actorRef, policyId: id, detail: { name: file.name, revision: 1 } }, now);
      if (file.deploy) await appendEvent(trx, ctx.dialect, { type: "policy.deployed", actor: actorRef, policyId: id, detail: { revision: 1 } }, now);
      return { id, created: true, changed: true, deployed: file.deploy };
    }
    if (mode === "create") throw new AppError("conflict", `A policy named "${existing.name}" exists already. Choose another name, or edit that policy.`);
    const before = rowToPolicy(existing);
    const changed = content(before) !== content(file) || before.name !== file.name;
    const wasLive = before.status === "deployed" && effectiveStatus(before, now) === "deployed";
    const deploy = file.deploy || (changed && wasLive);
    if (!changed && !(deploy && before.status !== "deployed")) return { id: existing.id, created: false, changed: false, deployed: false };
    const revision = changed ? existing.revision + 1 : existing.revision;
    await trx
      .updateTable("policies")
      .set({
        ...fields,
        revision,
        status: deploy ? "deployed" : existing.status,
        deployed_at: deploy ? at : existing.deployed_at,
        updated_at: at,
      })
      .where("id", "=", existing.id)
      .execute();
    if (changed) {
      const diff: Record<string, { from: unknown; to: unknown }> = {};
      for (const k of ["name", "description", "computers", "users", "duration", "applications"] as const) {
        if (canonicalJson(before[k]) !== canonicalJson(file[k])) diff[k] = { from: before[k], to: file[k] };
      }
      await appendEvent(trx, ctx.dialect, { type: "policy.edited", actor: actorRef, policyId: existing.id, detail: { revision, diff } }, now);
    }
    if (deploy) await appendEvent(trx, ctx.dialect, { type: "policy.deployed", actor: actorRef, policyId: existing.id, detail: { revision } }, now);
    return { id: existing.id, created: false, changed, deployed: deploy };
  });
  if (result.deployed || result.changed) await markBundlesStale(ctx, "all");
  return { policy: await getPolicy(ctx, result.id), created: result.created, changed: result.changed, deployed: result.deployed };
}

export async function setPolicyStatus(ctx: ServiceContext, id: string, action: "deploy" | "disable", actor: ConsoleUser): Promise<PolicyView> {
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom("policies").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new AppError("not_found", "No such policy.");
    const status = action === "deploy" ? "deployed" : "disabled";
    await trx
      .updateTable("policies")
      .set({ status, deployed_at: action === "deploy" ? now.toISOString() : row.deployed_at, updated_at: now.toISOString() })
      .where("id", "=", id)
      .execute();
    await appendEvent(
      trx,
      ctx.dialect,
      { type: action === "deploy" ? "policy.deployed" : "policy.disabled", actor: { type: "user", id: actor.id, name: actor.email }, policyId: id, detail: { revision: row.revision } },
      now,
    );
  });
  await markBundlesStale(ctx, "all");
  return getPolicy(ctx, id);
}
