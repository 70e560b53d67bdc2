// Policies: list, create, apply (an upsert by name), edit by id, duplicate, delete a draft, deploy, disable, and
// every revision kept readable (policy_versions). Every change is on the audit trail and marks the bundles for a rebuild.
import { AppError } from "../../core/app-error";
import { canonicalJson } from "../../core/canonical-json";
import type { ConsoleUser, PolicyView, ApplyPolicyResult } from "../../core/console-api";
import { z } from "zod";
import {
  effectiveStatus,
  parsePolicyFile,
  policyActiveSpan,
  PolicyApplicationsSchema,
  PolicyDurationSchema,
  PolicySchema,
  PolicyUsersSchema,
  type Policy,
  type PolicyFile,
} from "../../core/policy";
import type { Database, PoliciesTable } from "../db/schema";
import type { Transaction } from "kysely";
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

/** A Window is entered in the admin's time zone and stored in UTC. */
function windowInUtc(file: PolicyFile): PolicyFile {
  if (file.duration.type !== "window") return file;
  return { ...file, duration: { type: "window", start: new Date(file.duration.start).toISOString(), end: new Date(file.duration.end).toISOString() } };
}

export function parsePolicyInput(input: unknown): PolicyFile {
  const r = parsePolicyFile(input);
  if (r.issues) throw new AppError("bad_request", r.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("\n"), { issues: r.issues });
  return windowInUtc(r.value);
}

async function recordVersion(trx: Transaction<Database>, id: string, revision: number, file: PolicyFile, actor: ConsoleUser, at: string): Promise<void> {
  await trx
    .insertInto("policy_versions")
    .values({
      policy_id: id,
      revision,
      name: file.name,
      content: canonicalJson({ description: file.description, computers: file.computers, users: file.users, duration: file.duration, applications: file.applications }),
      created_by: actor.id,
      created_at: at,
    })
    .onConflict((oc) => oc.columns(["policy_id", "revision"]).doNothing())
    .execute();
}

/**
 * Creates a policy, or with mode "upsert" brings the policy of that name to the file's content (idempotent).
 * A changed policy that is deployed is redeployed as a new revision (a Fixed duration counts again from then).
 */
export async function applyPolicy(ctx: ServiceContext, givenFile: PolicyFile, actor: ConsoleUser, mode: "create" | "upsert" | { id: string }): Promise<ApplyPolicyResult> {
  const file = windowInUtc(givenFile);
  const now = ctx.now();
  const at = now.toISOString();
  const actorRef = { type: "user" as const, id: actor.id, name: actor.email };
  const result = await ctx.db.transaction().execute(async (trx) => {
    const byName = await trx.selectFrom("policies").selectAll().where("name_key", "=", file.name.toLowerCase()).executeTakeFirst();
    let existing = byName;
    if (typeof mode === "object") {
      existing = await trx.selectFrom("policies").selectAll().where("id", "=", mode.id).executeTakeFirst();
      if (!existing) throw new AppError("not_found", "No such policy (it may have been deleted).");
      if (byName && byName.id !== existing.id) throw new AppError("conflict", `A policy named "${byName.name}" exists already. Choose another name.`);
    }
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
      await recordVersion(trx, id, 1, file, actor, at);
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
      await recordVersion(trx, existing.id, revision, file, actor, at);
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

export const PolicyVersionSchema = z.object({
  revision: z.number().int(),
  name: z.string(),
  description: z.string(),
  computers: z.array(z.string()),
  users: PolicyUsersSchema,
  duration: PolicyDurationSchema,
  applications: PolicyApplicationsSchema,
  createdAt: z.string(),
  createdBy: z.string().nullable(),
});
export type PolicyVersion = z.infer<typeof PolicyVersionSchema>;

/** Every revision of a policy, newest first: what it said before each edit. */
export async function listPolicyVersions(ctx: ServiceContext, id: string): Promise<PolicyVersion[]> {
  await getPolicy(ctx, id);
  const rows = await ctx.db
    .selectFrom("policy_versions")
    .leftJoin("users", "users.id", "policy_versions.created_by")
    .select(["policy_versions.revision", "policy_versions.name", "policy_versions.content", "policy_versions.created_at", "users.email"])
    .where("policy_versions.policy_id", "=", id)
    .orderBy("policy_versions.revision", "desc")
    .execute();
  return rows.map((r) => PolicyVersionSchema.parse({ revision: r.revision, name: r.name, ...JSON.parse(r.content), createdAt: r.created_at, createdBy: r.email ?? null }));
}

/** A copy of a policy as a new draft, named "<name> (copy)" (or "(copy 2)", …). */
export async function duplicatePolicy(ctx: ServiceContext, id: string, actor: ConsoleUser): Promise<ApplyPolicyResult> {
  const source = await getPolicy(ctx, id);
  const base = `${source.name.slice(0, 110)} (copy`;
  let name = `${base})`;
  for (let n = 2; await ctx.db.selectFrom("policies").select("id").where("name_key", "=", name.toLowerCase()).executeTakeFirst(); n++) name = `${base} ${n})`;
  const file: PolicyFile = {
    name,
    description: source.description,
    computers: source.computers,
    users: source.users,
    duration: source.duration,
    applications: source.applications,
    deploy: false,
  };
  return applyPolicy(ctx, file, actor, "create");
}

/** Deletes a draft. A policy that was ever deployed is disabled instead, never erased: the audit needs it. */
export async function deletePolicy(ctx: ServiceContext, id: string, actor: ConsoleUser): Promise<void> {
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom("policies").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new AppError("not_found", "No such policy (it may have been deleted already).");
    if (row.status !== "draft") throw new AppError("conflict", `Only a draft can be deleted; "${row.name}" is ${row.status}. Disable it instead.`);
    await trx.deleteFrom("policy_versions").where("policy_id", "=", id).execute();
    await trx.deleteFrom("policies").where("id", "=", id).execute();
    await appendEvent(trx, ctx.dialect, { type: "policy.deleted", actor: { type: "user", id: actor.id, name: actor.email }, policyId: id, detail: { name: row.name, revision: row.revision } }, now);
  });
  // No bundle changes (it was a draft), but consoles replicate the deletion (issue 5).
  ctx.feed.publish({ kind: "sync", collections: ["policies"] });
}

/**
 * Records the end of every deployed policy whose time has passed: status `expired` and one `policy.expired` event
 * each. Conditional on the row being unchanged, so two sweepers (or a sweeper and an edit) never both record it.
 * Agents end access on time by themselves; this is for the record and the console.
 */
export async function expirePolicies(ctx: ServiceContext): Promise<number> {
  const now = ctx.now();
  const rows = await ctx.db.selectFrom("policies").selectAll().where("status", "=", "deployed").execute();
  let ended = 0;
  for (const row of rows) {
    const p = rowToPolicy(row);
    if (!p.deployedAt || effectiveStatus(p, now) !== "expired") continue;
    const endsAt = policyActiveSpan(p.duration, new Date(p.deployedAt)).endsAt.toISOString();
    const done = await ctx.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable("policies")
        .set({ status: "expired" })
        .where("id", "=", row.id)
        .where("status", "=", "deployed")
        .where("revision", "=", row.revision)
        .where("deployed_at", "=", row.deployed_at)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await appendEvent(trx, ctx.dialect, { type: "policy.expired", actor: { type: "system", name: "expiry sweeper" }, policyId: row.id, detail: { revision: row.revision, endedAt: endsAt } }, now);
      return true;
    });
    if (done) ended++;
  }
  return ended;
}
