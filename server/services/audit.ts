// Keeping the audit trail honest: the chain verifier (`jit-server audit verify`, the console's last verification),
// the retention setting, and pruning, which exports whole old segments and leaves a signed checkpoint behind so the
// rest of the chain still verifies.
import { createHash, createPublicKey, verify as verifySignature } from "node:crypto";
import { createWriteStream, mkdirSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { sql } from "kysely";
import { AppError } from "../../core/app-error";
import { checkpointSigningBytes, jsonLine, RetentionSchema, VerificationSchema, type CheckpointBody, type Retention, type Verification } from "../../core/audit";
import type { EventsTable } from "../db/schema";
import { newId } from "../util";
import type { ServiceContext } from "./context";
import { appendEvent, EVENTS_LOCK_KEY, eventHash, GENESIS_HASH, justificationOf, toView, type Actor } from "./events";

const LAST_VERIFICATION_KEY = "audit.last_verification";
const RETENTION_KEY = "audit.retention";

type Head = { seq: number; hash: string; signature: string };
type StoredVerification = Verification & { head: Head | null };

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
function headBytes(seq: number, hash: string): Uint8Array {
  return new TextEncoder().encode(`jit-audit-head:${seq}:${hash}`);
}
function verifiesWith(publicKeyPem: string, message: Uint8Array, signatureB64: string): boolean {
  try {
    return verifySignature(null, message, createPublicKey(publicKeyPem), Buffer.from(signatureB64, "base64"));
  } catch {
    return false;
  }
}

async function readSetting(ctx: ServiceContext, key: string): Promise<unknown> {
  const row = await ctx.db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst();
  if (!row) return undefined;
  try {
    return JSON.parse(row.value) as unknown;
  } catch {
    return undefined;
  }
}

/** Checks one event against what must come before it; the problem in words, or null when it holds. */
export function checkLink(row: EventsTable, expectedSeq: number, prevHash: string): string | null {
  const seq = Number(row.seq);
  if (seq > expectedSeq) return expectedSeq === seq - 1 ? `event #${expectedSeq} is missing (deleted)` : `events #${expectedSeq}–#${seq - 1} are missing (deleted)`;
  if (seq < expectedSeq) return `event #${seq} is out of order`;
  if (row.prev_hash !== prevHash) return `event #${seq} does not follow event #${seq - 1} (inserted, reordered, or the one before it was replaced)`;
  const { hash, justification, ...rest } = row;
  if (eventHash({ ...rest, seq }) !== hash) return `event #${seq} was edited (its hash does not match its content)`;
  if ((justification ?? null) !== justificationOf(row.detail)) return `event #${seq}'s justification was edited`;
  return null;
}

/** The first broken link among rows in seq order, starting after (expectedSeq - 1, prevHash); null when intact. */
export function firstBreak(rows: EventsTable[], expectedSeq = 1, prevHash = GENESIS_HASH): { badSeq: number; problem: string } | null {
  for (const row of rows) {
    const problem = checkLink(row, expectedSeq, prevHash);
    if (problem) return { badSeq: Math.min(Number(row.seq), expectedSeq), problem };
    expectedSeq += 1;
    prevHash = row.hash;
  }
  return null;
}

/**
 * Walks the chain from the newest signed checkpoint (or the genesis) to the newest event and names the first
 * broken link. The newest event verified is signed and kept, so a later walk also notices a cut-off tail.
 */
export async function verifyChain(ctx: ServiceContext, opts: { by?: string | null; record?: boolean; batch?: number } = {}): Promise<Verification> {
  const startedAt = ctx.now().toISOString();
  const batch = opts.batch ?? 5000;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checkpointSeq: number | null = null;
  let problem: string | null = null;
  let badSeq: number | null = null;

  const cp = await ctx.db.selectFrom("audit_checkpoints").selectAll().orderBy("seq", "desc").limit(1).executeTakeFirst();
  if (cp) {
    checkpointSeq = Number(cp.seq);
    const body: CheckpointBody = {
      seq: checkpointSeq,
      hash: cp.hash,
      fromSeq: Number(cp.from_seq),
      eventCount: Number(cp.event_count),
      lastAt: cp.last_at,
      archiveFile: cp.archive_file,
      archiveSha256: cp.archive_sha256,
      createdAt: cp.created_at,
    };
    if (!verifiesWith(ctx.signingKey.publicKeyPem, checkpointSigningBytes(body), cp.signature)) {
      problem = `the checkpoint at event #${checkpointSeq} does not carry the server's signature (edited or forged)`;
      badSeq = checkpointSeq + 1;
    }
    expectedSeq = checkpointSeq + 1;
    prevHash = cp.hash;
  }

  let checked = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let lastHash: string | null = null;
  let after = checkpointSeq ?? 0;
  const previous = (await readSetting(ctx, LAST_VERIFICATION_KEY)) as StoredVerification | undefined;
  const priorHead = previous?.head && verifiesWith(ctx.signingKey.publicKeyPem, headBytes(previous.head.seq, previous.head.hash), previous.head.signature) ? previous.head : null;

  while (!problem) {
    const rows = await ctx.db.selectFrom("events").selectAll().where("seq", ">", after).orderBy("seq", "asc").limit(batch).execute();
    for (const row of rows) {
      const p = checkLink(row, expectedSeq, prevHash);
      if (p) {
        problem = p;
        badSeq = Math.min(Number(row.seq), expectedSeq);
        break;
      }
      if (priorHead && priorHead.seq === expectedSeq && priorHead.hash !== row.hash) {
        problem = `event #${expectedSeq} differs from the one verified on ${previous?.at ?? "an earlier run"} (the chain was rewritten from there on)`;
        badSeq = expectedSeq;
        break;
      }
      checked += 1;
      firstSeq ??= expectedSeq;
      lastSeq = expectedSeq;
      lastHash = row.hash;
      expectedSeq += 1;
      prevHash = row.hash;
    }
    if (rows.length < batch) break;
    after = Number(rows[rows.length - 1]!.seq);
  }
  if (!problem && priorHead && (lastSeq ?? checkpointSeq ?? 0) < priorHead.seq) {
    badSeq = (lastSeq ?? checkpointSeq ?? 0) + 1;
    problem = `events #${badSeq}–#${priorHead.seq} are missing (deleted): they were verified on ${previous?.at ?? "an earlier run"}`;
  }

  const result: Verification = {
    ok: problem === null,
    at: startedAt,
    checked,
    firstSeq,
    lastSeq,
    badSeq,
    problem,
    checkpointSeq,
    by: opts.by ?? null,
  };
  if (opts.record !== false) {
    // Only an intact chain moves the signed head forward; a broken one keeps the last good head for the next walk.
    const head: Head | null = result.ok && lastSeq !== null && lastHash !== null ? { seq: lastSeq, hash: lastHash, signature: b64(ctx.signingKey.sign(headBytes(lastSeq, lastHash))) } : (priorHead ?? null);
    const stored: StoredVerification = { ...result, head };
    await writeSetting(ctx, LAST_VERIFICATION_KEY, stored);
    // A new failure (or one that moved to another event) goes on the trail, where notifications pick it up;
    // the same failure found again by the next run does not repeat it.
    if (!result.ok && (!previous || previous.ok || previous.badSeq !== result.badSeq)) {
      await ctx.db
        .transaction()
        .execute((trx) =>
          appendEvent(trx, ctx.dialect, { type: "audit.verify_failed", actor: { type: "system", name: opts.by ?? "audit verification" }, detail: { badSeq: result.badSeq, problem: result.problem, checked: result.checked } }, ctx.now()),
        );
      // Consoles show it and the notification dispatcher sends it now, not at its next timer.
      ctx.feed.publish({ kind: "sync", collections: ["events"] });
    }
  }
  return result;
}

async function writeSetting(ctx: ServiceContext, key: string, value: unknown): Promise<void> {
  const now = ctx.now().toISOString();
  const text = JSON.stringify(value);
  await ctx.db
    .insertInto("settings")
    .values({ key, value: text, updated_at: now })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value: text, updated_at: now }))
    .execute();
}

export async function lastVerification(ctx: ServiceContext): Promise<Verification | null> {
  const r = VerificationSchema.safeParse(await readSetting(ctx, LAST_VERIFICATION_KEY));
  return r.success ? r.data : null;
}

// ---- Retention --------------------------------------------------------------------------------------------

export async function getRetention(ctx: ServiceContext): Promise<Retention> {
  const r = RetentionSchema.safeParse(await readSetting(ctx, RETENTION_KEY));
  return r.success ? r.data : { days: null };
}

export async function setRetention(ctx: ServiceContext, value: Retention, actor: Actor): Promise<Retention> {
  const next = RetentionSchema.parse(value);
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom("settings").select("value").where("key", "=", RETENTION_KEY).executeTakeFirst();
    const old = RetentionSchema.safeParse(row ? JSON.parse(row.value) : null);
    const oldDays = old.success ? old.data.days : null;
    if (oldDays === next.days) return;
    const text = JSON.stringify(next);
    await trx
      .insertInto("settings")
      .values({ key: RETENTION_KEY, value: text, updated_at: now.toISOString() })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value: text, updated_at: now.toISOString() }))
      .execute();
    await appendEvent(trx, ctx.dialect, { type: "settings.changed", actor, detail: { setting: "audit.retentionDays", old: oldDays, new: next.days } }, now);
  });
  return next;
}

export type PruneResult = { pruned: 0 } | { pruned: number; fromSeq: number; toSeq: number; archiveFile: string; archiveSha256: string };

/**
 * Exports every event older than `before` (a whole segment: from the oldest kept event up to the newest event
 * older than `before`) to a JSON Lines file in `archiveDir`, then deletes that segment and records a checkpoint
 * signed with the server's key. Refuses when the chain is broken: a broken segment is evidence, not garbage.
 */
export async function pruneAudit(ctx: ServiceContext, opts: { archiveDir: string; before: Date }): Promise<PruneResult> {
  const cutoff = opts.before.toISOString();
  const edge = await ctx.db.selectFrom("events").select(sql<number | null>`max(seq)`.as("seq")).where("at", "<", cutoff).executeTakeFirst();
  const toSeq = edge?.seq === null || edge?.seq === undefined ? null : Number(edge.seq);
  if (toSeq === null) return { pruned: 0 };
  const check = await verifyChain(ctx, { record: false });
  if (!check.ok) throw new AppError("conflict", `The audit trail is broken at event #${check.badSeq} (${check.problem}); nothing was pruned. Investigate first.`);
  const first = await ctx.db.selectFrom("events").select(["seq"]).orderBy("seq", "asc").limit(1).executeTakeFirstOrThrow();
  const fromSeq = Number(first.seq);

  mkdirSync(opts.archiveDir, { recursive: true, mode: 0o700 });
  const archiveFile = join(opts.archiveDir, `events-${String(fromSeq).padStart(9, "0")}-${String(toSeq).padStart(9, "0")}.jsonl`);
  const digest = createHash("sha256");
  const out = createWriteStream(archiveFile, { flags: "wx", mode: 0o600 });
  let count = 0;
  let last: EventsTable | null = null;
  let after = fromSeq - 1;
  for (;;) {
    const rows = await ctx.db.selectFrom("events").selectAll().where("seq", ">", after).where("seq", "<=", toSeq).orderBy("seq", "asc").limit(2000).execute();
    for (const r of rows) {
      const line = jsonLine(toView(r));
      digest.update(line);
      if (!out.write(line)) await once(out, "drain");
      count += 1;
      last = r;
    }
    if (rows.length < 2000) break;
    after = Number(rows[rows.length - 1]!.seq);
  }
  out.end();
  await once(out, "finish");
  const fh = await open(archiveFile, "r");
  await fh.sync();
  await fh.close();
  if (!last) return { pruned: 0 };
  const archiveSha256 = digest.digest("hex");

  const now = ctx.now();
  const body: CheckpointBody = { seq: toSeq, hash: last.hash, fromSeq, eventCount: count, lastAt: last.at, archiveFile, archiveSha256, createdAt: now.toISOString() };
  const checkpointId = newId();
  await ctx.db.transaction().execute(async (trx) => {
    if (ctx.dialect === "postgres") await sql`select pg_advisory_xact_lock(${sql.lit(EVENTS_LOCK_KEY)})`.execute(trx);
    await trx
      .insertInto("audit_checkpoints")
      .values({
        id: checkpointId,
        seq: body.seq,
        hash: body.hash,
        from_seq: body.fromSeq,
        event_count: body.eventCount,
        last_at: body.lastAt,
        archive_file: body.archiveFile,
        archive_sha256: body.archiveSha256,
        created_at: body.createdAt,
        key_id: ctx.signingKey.keyId,
        signature: b64(ctx.signingKey.sign(checkpointSigningBytes(body))),
      })
      .execute();
    await trx.deleteFrom("events").where("seq", "<=", toSeq).execute();
    await appendEvent(
      trx,
      ctx.dialect,
      { type: "audit.segment_pruned", actor: { type: "system", name: "retention" }, detail: { fromSeq, toSeq, eventCount: count, archiveFile, archiveSha256, checkpointId, before: cutoff } },
      now,
    );
  });
  return { pruned: count, fromSeq, toSeq, archiveFile, archiveSha256 };
}

/** Applies the retention setting once: prunes what is older than the configured days, if any are set. */
export async function applyRetention(ctx: ServiceContext, archiveDir: string): Promise<PruneResult> {
  const { days } = await getRetention(ctx);
  if (days === null) return { pruned: 0 };
  return pruneAudit(ctx, { archiveDir, before: new Date(ctx.now().getTime() - days * 86_400_000) });
}
