// Telling the end user how their request turned out (issue 9): the daemon watches this computer's requests and, when
// one is approved, declined, lapses, is revoked or ends, writes a line to the requester's terminals and shows a
// desktop notification where they have a session. Each outcome is told once (remembered in notify-user.json).
// The pieces are apart so they can be tested alone: what happened (outcomesOf), what to say (messageFor), making
// server text safe for a terminal (sanitizeText), where the user is (parseWho), what to tell now (planTells).
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { z } from "zod";
import { describeDuration } from "../core/duration";
import type { AgentRequestView } from "../core/protocol";
import { backoffDelayMs } from "./backoff";
import {
  findNotifySend,
  lookupUser,
  notifySendCommand,
  runPlan,
  runWho,
  sessionBusOf,
  TTY_PATH,
  writeToTty,
  type LocalUser,
  type WriteResult,
} from "./notify-user-writers";
import { getRequest, listRequests } from "./request-client";
import { readJsonFile, writeFileAtomic, type AgentConfig, type StateStore } from "./state";

// ── What happened ───────────────────────────────────────────────────────────────────────────────────

export type OutcomeKind = "approved" | "declined" | "lapsed" | "revoked" | "expired";
/** What is remembered as told: revoked and expired are both the grant's end, told once. */
export type OutcomeKey = "approved" | "declined" | "lapsed" | "ended";
export type Outcome = { kind: OutcomeKind; key: OutcomeKey; request: AgentRequestView };

const keyOf = (kind: OutcomeKind): OutcomeKey => (kind === "revoked" || kind === "expired" ? "ended" : kind);

/**
 * The outcome a request's view shows at `now`. An approval whose end has passed is an expiry even before the
 * server's sweeper says so (the agent ends grants on time on its own). Pending and cancelled tell nothing, nor does
 * an end the user asked for themselves (`jit-agent done`).
 */
export function outcomeOf(v: AgentRequestView, now: Date): Outcome | null {
  let kind: OutcomeKind | null = null;
  switch (v.status) {
    case "approved":
      kind = v.endsAt && Date.parse(v.endsAt) <= now.getTime() ? "expired" : "approved";
      break;
    case "declined":
    case "lapsed":
    case "expired":
      kind = v.status;
      break;
    case "revoked":
      kind = v.revokedBy?.type === "enduser" ? null : "revoked";
      break;
    default:
      kind = null;
  }
  return kind ? { kind, key: keyOf(kind), request: v } : null;
}

// ── What to say ─────────────────────────────────────────────────────────────────────────────────────

/** The longest line written to a terminal, and the longest title and body of a desktop notification. */
export const LINE_MAX = 400;
export const TITLE_MAX = 100;
export const BODY_MAX = 300;

/**
 * Text from the server (a justification, a decline reason, a name) made safe to write to someone's terminal: escape
 * sequences (CSI, OSC, DCS…) removed whole, every other control character (C0, DEL, C1 such as the one-byte CSI
 * U+009B) and bidirectional override removed, line breaks and tabs made spaces, runs of spaces folded, at most `max`
 * characters (an ellipsis marks a cut).
 */
export function sanitizeText(text: string, max: number): string {
  const s = text
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD")
    // ESC [ … final, ESC ] … BEL/ST, ESC P/X/^/_ … ST, then any other ESC + one character.
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]?/g, "")
    .replace(/\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?/g, "")
    .replace(/\x9b[0-?]*[ -/]*[@-~]?/g, "")
    .replace(/[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?/g, "")
    .replace(/\x1b[\s\S]?/g, "")
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, " ")
    .replace(/[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, "")
    .replace(/ {2,}/g, " ")
    .trim();
  const chars = Array.from(s);
  return chars.length <= max ? s : chars.slice(0, Math.max(0, max - 1)).join("").trimEnd() + "…";
}

export type Message = { title: string; body: string; /** The one line for a terminal. */ line: string };

/** "14:32" today, "28 Nov 14:32" another day, in the computer's time zone unless told. */
export function formatTime(iso: string, now: Date, timeZone?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = (x: Date) => new Intl.DateTimeFormat("en-GB", { timeZone, year: "numeric", month: "short", day: "numeric" }).format(x);
  const time = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hour12: false }).format(d);
  if (day(d) === day(now)) return time;
  return `${new Intl.DateTimeFormat("en-GB", { timeZone, month: "short", day: "numeric" }).format(d)} ${time}`;
}

/** What the requester is told, in plain words; every piece of server text sanitized. */
export function messageFor(o: Outcome, now: Date, timeZone?: string): Message {
  const v = o.request;
  const app = sanitizeText(basename(v.app.path) || v.app.path, 60) || "the application";
  const path = sanitizeText(v.app.path, 120);
  const by = (name: string | undefined | null, fallback: string) => sanitizeText(name ?? "", 60) || fallback;
  const reason = (r: string | null) => sanitizeText(r ?? "", 200);
  const until = v.endsAt ? formatTime(v.endsAt, now, timeZone) : null;
  let title: string;
  let body: string;
  switch (o.kind) {
    case "approved": {
      const note = reason(v.note);
      const length = v.grantedDuration ? ` for ${describeDuration(v.grantedDuration)}` : "";
      title = `Elevation approved: ${app}${until ? ` until ${until}` : ""}`;
      body = `Approved by ${by(v.decidedBy?.name, "an approver")}${length}: ${path} may run elevated${until ? ` until ${until}` : ""}.${note ? ` Note: ${note}` : ""}`;
      break;
    }
    case "declined":
      title = `Elevation declined: ${app}`;
      body = `Declined by ${by(v.decidedBy?.name, "an approver")}: ${reason(v.declineReason) || "no reason given"}`;
      break;
    case "lapsed":
      title = `Elevation request lapsed: ${app}`;
      body = "Nobody answered your request in time; you may ask again.";
      break;
    case "revoked": {
      const r = reason(v.revokeReason);
      const who = v.revokedBy?.type === "system" ? "Ended by the server" : `Revoked by ${by(v.revokedBy?.name, "an administrator")}`;
      title = `Elevation ended: ${app}`;
      body = `${who}${r ? `: ${r}` : ""}. ${path} no longer runs elevated.`;
      break;
    }
    case "expired":
      title = `Elevation ended: ${app}`;
      body = `Your elevated access ${until ? `ended at ${until}` : "has ended"}; ${path} no longer runs elevated.`;
      break;
  }
  title = sanitizeText(title, TITLE_MAX);
  body = sanitizeText(body, BODY_MAX);
  return { title, body, line: sanitizeText(`[JIT Access] ${title}. ${body}`, LINE_MAX) };
}

// ── Where the user is ───────────────────────────────────────────────────────────────────────────────

export type TtyLogin = { user: string; tty: string };

/** The terminal logins in `who` output ("alice pts/0 2026-11-27 07:00 (10.0.0.5)"): graphical lines like ":0" left out. */
export function parseWho(text: string): TtyLogin[] {
  const out: TtyLogin[] = [];
  const seen = new Set<string>();
  for (const raw of text.split("\n")) {
    const [user, line] = raw.trim().split(/\s+/);
    if (!user || !line) continue;
    const tty = `/dev/${line}`;
    if (!TTY_PATH.test(tty) || seen.has(`${user}\0${tty}`)) continue;
    seen.add(`${user}\0${tty}`);
    out.push({ user, tty });
  }
  return out;
}

// ── What to tell now ────────────────────────────────────────────────────────────────────────────────

const HOUR = 3_600_000;

/** Too old to be news: a restored state file, or a computer that was off for days, does not replay history. */
function isNews(o: Outcome, now: Date): boolean {
  const v = o.request;
  const age = (iso: string | null | undefined) => (iso ? now.getTime() - Date.parse(iso) : Infinity);
  switch (o.kind) {
    case "approved":
      return age(v.decidedAt) < 24 * HOUR;
    case "declined":
    case "lapsed":
      return age(v.decidedAt ?? v.lapsesAt ?? v.createdAt) < 24 * HOUR;
    case "revoked":
    case "expired":
      return age(v.endsAt) < HOUR;
  }
}

export const ToldSchema = z.object({
  version: z.literal(1),
  told: z.record(z.string(), z.object({ keys: z.array(z.enum(["approved", "declined", "lapsed", "ended"])), at: z.string() })),
});
export type Told = z.infer<typeof ToldSchema>["told"];

/** How many requests' outcomes are remembered (the server lists at most 100 per computer). */
const TOLD_MAX = 1_000;

/**
 * Which outcomes to tell, and the record with them marked told. On the first look (no record yet) everything is
 * marked told and nothing said: installing the agent does not announce old decisions. An approval that ended before
 * it was told is marked told too, so only the end is said.
 */
export function planTells(views: AgentRequestView[], told: Told, now: Date, firstLook: boolean): { tell: Outcome[]; told: Told } {
  const next: Told = { ...told };
  const tell: Outcome[] = [];
  const at = now.toISOString();
  for (const v of views) {
    const o = outcomeOf(v, now);
    if (!o) continue;
    const keys = new Set(next[v.id]?.keys ?? []);
    if (keys.has(o.key)) continue;
    keys.add(o.key);
    if (o.key === "ended") keys.add("approved");
    next[v.id] = { keys: [...keys].sort() as Told[string]["keys"], at };
    if (!firstLook && isNews(o, now)) tell.push(o);
  }
  const ids = Object.keys(next);
  if (ids.length > TOLD_MAX) {
    const keep = new Set(views.map((v) => v.id));
    ids.sort((a, b) => (next[b]!.at < next[a]!.at ? -1 : 1));
    for (const id of ids.slice(TOLD_MAX)) if (!keep.has(id)) delete next[id];
  }
  return { tell, told: next };
}

export const toldPath = (store: StateStore) => join(store.dir, "notify-user.json");

/** The record, or null when there is none yet (the first look). A damaged one counts as none: worst case, silence. */
export async function loadTold(store: StateStore): Promise<Told | null> {
  const raw = await readJsonFile(toldPath(store)).catch(() => undefined);
  const r = ToldSchema.safeParse(raw);
  return r.success ? r.data.told : null;
}

export async function saveTold(store: StateStore, told: Told): Promise<void> {
  await writeFileAtomic(toldPath(store), JSON.stringify({ version: 1, told }) + "\n");
}

// ── Telling ─────────────────────────────────────────────────────────────────────────────────────────

/** The system around the notifier, replaceable in tests. */
export type NotifyDeps = {
  lookupUser: (name: string) => Promise<LocalUser | null>;
  /** `who`-like text: one login per line, user then terminal. */
  who: () => Promise<string>;
  writeTty: (path: string, uid: number, line: string) => Promise<WriteResult>;
  /** Shows a desktop notification; null when the user has no session bus or notify-send is not installed. */
  desktop: (user: LocalUser, title: string, body: string) => Promise<{ ok: boolean; detail: string } | null>;
};

export function systemDeps(opts: { utmp?: string } = {}): NotifyDeps {
  return {
    lookupUser,
    who: () => runWho(opts.utmp),
    writeTty: writeToTty,
    desktop: async (user, title, body) => {
      const bus = await sessionBusOf(user.uid);
      if (!bus) return null;
      const notifySend = await findNotifySend();
      if (!notifySend) return null;
      return runPlan(notifySendCommand(notifySend, user, bus, title, body));
    },
  };
}

export type Delivery = { user: string; terminals: number; desktop: "shown" | "failed" | "none"; skipped: string[] };

/** Tells one user one message on every channel they have; never throws. */
export async function deliver(deps: NotifyDeps, userName: string, m: Message): Promise<Delivery> {
  const d: Delivery = { user: userName, terminals: 0, desktop: "none", skipped: [] };
  let user: LocalUser | null = null;
  try {
    user = await deps.lookupUser(userName);
  } catch {
    user = null;
  }
  if (!user) {
    d.skipped.push("no local account of that name");
    return d;
  }
  const logins = parseWho(await deps.who().catch(() => "")).filter((l) => l.user === user.name);
  for (const l of logins) {
    const r = await deps.writeTty(l.tty, user.uid, m.line).catch((e: Error) => ({ written: false as const, skipped: e.message }));
    if (r.written) d.terminals += 1;
    else d.skipped.push(`${l.tty}: ${r.skipped}`);
  }
  const shown = await deps.desktop(user, m.title, m.body).catch((e: Error) => ({ ok: false, detail: e.message }));
  if (shown) {
    d.desktop = shown.ok ? "shown" : "failed";
    if (!shown.ok) d.skipped.push(`desktop: ${shown.detail}`);
  }
  return d;
}

/** Why the daemon does not notify here, or null when it can: it acts as other users, so it needs root, and Linux. */
export function notifyUnsupported(platform: string = process.platform, uid: number | undefined = process.getuid?.()): string | null {
  if (platform !== "linux") return `not on Linux (${platform})`;
  if (uid !== 0) return "the agent does not run as root";
  return null;
}

export type UserNotifierOptions = {
  store: StateStore;
  logger: Logger;
  deps?: NotifyDeps;
  /** How often to ask the server about this computer's requests when none is pending (ms). */
  idlePollMs?: number;
  timeZone?: string;
  now?: () => Date;
};

/** The longest the server holds a request read while one is pending (s). */
const PENDING_WAIT_S = 25;

/**
 * The daemon's loop that tells users. It lists this computer's requests at start, whenever `kick()` says something
 * may have changed (a new bundle, a queued request sent), every idlePollMs, and at each approved grant's end; while a
 * request is pending it waits on that request with the server's long-poll instead, so a decline arrives at once.
 */
export class UserNotifier {
  private readonly store: StateStore;
  private readonly logger: Logger;
  private readonly deps: NotifyDeps;
  private readonly idlePollMs: number;
  private readonly timeZone: string | undefined;
  private readonly now: () => Date;
  private kicked = new AbortController();
  private lastViews: AgentRequestView[] | null = null;

  constructor(o: UserNotifierOptions) {
    this.store = o.store;
    this.logger = o.logger;
    this.deps = o.deps ?? systemDeps();
    this.idlePollMs = o.idlePollMs ?? 120_000;
    this.timeZone = o.timeZone;
    this.now = o.now ?? (() => new Date());
  }

  /** Something may have changed on the server: look now. */
  kick(): void {
    this.kicked.abort();
  }

  /** One look: plan with `views`, remember, then tell. Remembered first: a crash while telling never repeats a message. */
  async look(views: AgentRequestView[]): Promise<Delivery[]> {
    const now = this.now();
    const told = await loadTold(this.store);
    const plan = planTells(views, told ?? {}, now, told === null);
    if (told === null || JSON.stringify(plan.told) !== JSON.stringify(told)) await saveTold(this.store, plan.told);
    const out: Delivery[] = [];
    for (const o of plan.tell) {
      const d = await deliver(this.deps, o.request.user, messageFor(o, now, this.timeZone));
      out.push(d);
      // No server text in the log: a reason is the user's business, and the outcome says enough.
      this.logger.info(
        { event: "user_notified", requestId: o.request.id, outcome: o.kind, user: d.user, terminals: d.terminals, desktop: d.desktop, ...(d.skipped.length ? { skipped: d.skipped.slice(0, 10) } : {}) },
        `told ${d.user} that request ${o.request.id} is ${o.kind}`,
      );
    }
    return out;
  }

  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      this.kicked = new AbortController();
      const started = Date.now();
      let config: AgentConfig | null = null;
      let delay = this.idlePollMs;
      let views = this.lastViews;
      try {
        config = await this.store.loadConfig();
        if (config) {
          views = await listRequests(config, null);
          this.lastViews = views;
        }
        failures = 0;
      } catch (e) {
        if (signal.aborted) break;
        delay = backoffDelayMs(failures);
        failures += 1;
        this.logger.debug({ event: "notify_list_failed", message: (e as Error).message, retryInMs: delay }, "could not list this computer's requests");
      }
      // Offline, the last list still tells a grant's end on time.
      if (views) {
        try {
          await this.look(views);
        } catch (e) {
          this.logger.warn({ event: "notify_failed", message: (e as Error).message }, "could not notify users");
        }
      }
      const now = this.now().getTime();
      const ends = (views ?? []).filter((v) => v.status === "approved" && v.endsAt && Date.parse(v.endsAt) > now).map((v) => Date.parse(v.endsAt!) - now + 500);
      delay = Math.min(delay, ...ends);
      const pending = failures === 0 && config ? (views ?? []).filter((v) => v.status === "pending").sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0] : undefined;
      const wake = AbortSignal.any([signal, this.kicked.signal]);
      if (pending && config) {
        const wait = Math.max(0, Math.min(PENDING_WAIT_S, Math.floor(delay / 1000)));
        await getRequest(config, pending.id, wait, wake).catch(() => {});
        // Never spin: a long-poll that answers at once (a server that does not hold) is paced to a second.
        delay = Math.max(0, 1_000 - (Date.now() - started));
      }
      try {
        await sleep(delay, undefined, { signal: wake });
      } catch {
        // kicked or stopped
      }
    }
  }
}
