// Showing times, durations and policy scopes to people, in the browser's own time zone.
import type { PolicyView } from "../../core/console-api";

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
}

const exactFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const shortFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "12 Mar 2026, 09:00:00" in the browser's time zone. */
export function formatExact(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : exactFormat.format(d);
}

export function formatShort(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : shortFormat.format(d);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "3 minutes ago", "in 2 hours". */
export function formatRelative(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const seconds = Math.round((t - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? "just now" : "in a few seconds";
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return relative.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 24) return relative.format(hours, "hour");
  const days = Math.round(hours / 24);
  if (Math.abs(days) < 60) return relative.format(days, "day");
  return relative.format(Math.round(days / 30), "month");
}

export function describeUsers(users: PolicyView["users"]): string {
  return users === "all" ? "All users" : users.join(", ");
}

export function describeList(items: readonly string[], max = 3): string {
  if (items.length <= max) return items.join(", ");
  return `${items.slice(0, max).join(", ")} +${items.length - max} more`;
}

export function describeScope(applications: PolicyView["applications"]): string {
  if (applications === "allAllowed") return "All Allowed Application(s)";
  const n = applications.length;
  return `Specific applications (${n} ${n === 1 ? "rule" : "rules"})`;
}

export function describePolicyDuration(duration: PolicyView["duration"]): string {
  if (duration.type === "fixed") return `Fixed ${duration.length}`;
  const start = new Date(duration.start);
  const end = new Date(duration.end);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) return `Window ${duration.start} – ${duration.end}`;
  // formatRange leaves out what the two ends share: "27 Nov 2026, 09:00 – 11:00".
  return `Window ${shortFormat.formatRange(start, end)}`;
}
