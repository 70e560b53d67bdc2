// Bundle compiler and signer: what one computer may do, signed, with a version that only goes up.
// A change marks bundles stale; the next pull (or a woken long-poll) rebuilds the computer's bundle.
import { BUNDLE_FORMAT, signBundle, type Bundle, type BundlePolicy, type SignedBundle } from "../../core/bundle";
import { policyCoversComputer } from "../../core/computer-match";
import { policyActiveSpan } from "../../core/policy";
import type { ServiceContext } from "./context";
import { rowToPolicy } from "./policies";
import { allowlistRules } from "./allowlist";
import { grantsForComputer } from "./request-grants";
import { bundleRequestSettings, getSettings } from "./settings";

export type BundleComputer = { id: string; name: string };

export async function markBundlesStale(ctx: ServiceContext, computerIds: string[] | "all"): Promise<void> {
  let q = ctx.db.updateTable("bundles").set({ stale: 1 });
  if (computerIds !== "all") {
    if (computerIds.length === 0) return;
    q = q.where("computer_id", "in", computerIds);
  }
  await q.execute();
  ctx.feed.publish({ kind: "bundle", computerIds });
}

async function compile(ctx: ServiceContext, computer: BundleComputer, version: number, now: Date): Promise<Bundle> {
  const rows = await ctx.db.selectFrom("policies").selectAll().where("status", "=", "deployed").orderBy("id").execute();
  const policies: BundlePolicy[] = [];
  for (const row of rows) {
    const p = rowToPolicy(row);
    if (!p.deployedAt || !policyCoversComputer(p.computers, computer.name)) continue;
    const span = policyActiveSpan(p.duration, new Date(p.deployedAt));
    if (span.endsAt <= now) continue;
    policies.push({
      id: p.id,
      name: p.name,
      revision: p.revision,
      users: p.users,
      applications: p.applications,
      duration: p.duration,
      startsAt: span.startsAt.toISOString(),
      endsAt: span.endsAt.toISOString(),
    });
  }
  return {
    format: BUNDLE_FORMAT,
    computer: { id: computer.id, name: computer.name },
    version,
    issuedAt: now.toISOString(),
    validUntil: new Date(now.getTime() + ctx.bundleValidityMs).toISOString(),
    policies,
    grants: await grantsForComputer(ctx, computer.id, now),
    allowlist: await allowlistRules(ctx),
    requests: bundleRequestSettings(await getSettings(ctx)),
  };
}

/**
 * The computer's current signed bundle. Rebuilt when marked stale, or when half its validity has passed
 * (so an agent that pulls regularly never holds a bundle near its end).
 */
export async function currentBundle(ctx: ServiceContext, computer: BundleComputer): Promise<SignedBundle> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = ctx.now();
    const row = await ctx.db.selectFrom("bundles").selectAll().where("computer_id", "=", computer.id).executeTakeFirst();
    const halfLife = row ? Date.parse(row.issued_at) + ctx.bundleValidityMs / 2 : 0;
    if (row && !row.stale && now.getTime() < halfLife) {
      return { bundle: JSON.parse(row.body) as Bundle, signature: row.signature, keyId: ctx.signingKey.keyId };
    }
    const version = (row?.version ?? 0) + 1;
    const signed = signBundle(await compile(ctx, computer, version, now), ctx.signingKey.sign, ctx.signingKey.keyId);
    const values = {
      version,
      issued_at: signed.bundle.issuedAt,
      valid_until: signed.bundle.validUntil,
      body: JSON.stringify(signed.bundle),
      signature: signed.signature,
      stale: 0,
    };
    // Optimistic: only the builder that saw the old version stores; a loser reads the winner's bundle.
    if (!row) {
      const r = await ctx.db
        .insertInto("bundles")
        .values({ computer_id: computer.id, ...values })
        .onConflict((oc) => oc.column("computer_id").doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 1) return signed;
    } else {
      const r = await ctx.db.updateTable("bundles").set(values).where("computer_id", "=", computer.id).where("version", "=", row.version).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) return signed;
    }
  }
  throw new Error("could not build the bundle: too many concurrent rebuilds");
}

export async function latestBundleVersions(ctx: ServiceContext): Promise<Map<string, number>> {
  const rows = await ctx.db.selectFrom("bundles").select(["computer_id", "version"]).execute();
  return new Map(rows.map((r) => [r.computer_id, r.version]));
}
