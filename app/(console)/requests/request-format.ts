// Showing elevation requests to people: statuses, waiting times, countdowns, durations an approver may choose.
import { durationMs } from "../../../core/duration";
import type { RequestStatus, RequestView } from "../../../core/request";
import { formatRelative } from "../../_lib/format";

export const REQUEST_STATUS_LABELS: Record<RequestStatus, string> = {
  pending: "Pending",
  approved: "Approved",
  declined: "Declined",
  cancelled: "Cancelled",
  lapsed: "Lapsed",
  revoked: "Revoked",
  expired: "Expired",
};

export const REQUEST_STATUS_STYLES: Record<RequestStatus, string> = {
  pending: "bg-amber-50 text-amber-800 ring-amber-300",
  approved: "bg-emerald-50 text-emerald-800 ring-emerald-300",
  declined: "bg-red-50 text-red-800 ring-red-200",
  cancelled: "bg-zinc-100 text-zinc-600 ring-zinc-300",
  lapsed: "bg-zinc-100 text-zinc-600 ring-zinc-300",
  revoked: "bg-red-50 text-red-800 ring-red-200",
  expired: "bg-zinc-100 text-zinc-500 ring-zinc-300",
};

/** An approved request whose time has not run out: access is in force on the computer. */
export function isActive(r: RequestView, now: number): boolean {
  return r.status === "approved" && (r.endsAt === null || Date.parse(r.endsAt) > now);
}

/** "45 s", "12 min", "3 h 05 min", "2 d 4 h": a span of time for people, coarse enough to read at a glance. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h${m % 60 ? ` ${String(m % 60).padStart(2, "0")} min` : ""}`;
  const d = Math.floor(h / 24);
  return `${d} d${h % 24 ? ` ${h % 24} h` : ""}`;
}

/** A countdown that ticks every second: "4:59", "1:02:03", "2 d 4 h". */
export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s >= 86_400) return formatSpan(ms);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
const DAY_TIME = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

/** "10:42:07" today, "26 Nov, 10:42:07" on another day. */
export function formatClock(iso: string, now: number): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Date(now).toDateString() === d.toDateString() ? TIME.format(d) : DAY_TIME.format(d);
}

/** Where the decision stands on the computer: "applied on build-01 at 10:42:07" or "not yet applied — …". */
export function describeApplied(r: RequestView, now: number): { applied: boolean; text: string } | null {
  if (r.status === "pending" || r.status === "cancelled" || r.status === "lapsed") return null;
  const { bundleVersion, appliedAt, computerLastSeenAt } = r.applied;
  // A decline changes nothing on the computer: there is nothing to apply.
  if (bundleVersion === null && !appliedAt) return null;
  if (appliedAt) return { applied: true, text: `applied on ${r.computer.name} at ${formatClock(appliedAt, now)}` };
  const seen = computerLastSeenAt ? `computer last seen ${formatRelative(computerLastSeenAt, now)}` : "the computer has not been seen yet";
  return { applied: false, text: `not yet applied — ${seen}` };
}

/** Durations an approver may grant: the standard lengths shorter than asked, and what was asked. */
export function grantableDurations(requested: string): string[] {
  const asked = durationMs(requested);
  if (asked === null) return [requested];
  const standard = ["5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "2d", "7d"];
  const shorter = standard.filter((d) => (durationMs(d) ?? Infinity) < asked);
  return [requested, ...shorter.reverse()];
}

/** The application as people recognise it: the package and version, else the file name. */
export function appTitle(app: RequestView["app"]): string {
  if (app.packageName) return app.packageVersion ? `${app.packageName} ${app.packageVersion}` : app.packageName;
  const parts = app.path.split(/[\\/]/);
  return parts[parts.length - 1] || app.path;
}
