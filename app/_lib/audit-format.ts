// Showing audit events to people: a one-line summary of each event's detail.
import type { EventView } from "../../core/audit";

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);

/** "Justification: …", "App /opt/x (policy Build tools)", "Changed: users, duration". */
export function summarizeEvent(e: EventView): string {
  const d = e.detail;
  const parts: string[] = [];
  const app = d.app && typeof d.app === "object" ? str((d.app as { path?: unknown }).path) : null;
  if (app) parts.push(app);
  const source = d.source && typeof d.source === "object" ? (d.source as { type?: unknown; name?: unknown }) : null;
  if (source && str(source.name)) parts.push(`${source.type === "grant" ? "by" : "by policy"} ${String(source.name)}`);
  if (e.type === "policy.edited" && d.diff && typeof d.diff === "object") {
    const keys = Array.isArray(d.diff) ? d.diff.map((x) => (x && typeof x === "object" && "field" in x ? String((x as { field: unknown }).field) : String(x))) : Object.keys(d.diff);
    if (keys.length) parts.push(`changed ${keys.join(", ")}`);
  }
  if (str(d.justification)) parts.push(`“${String(d.justification)}”`);
  if (e.type === "agent.elevation_denied" || e.type === "agent.grant_ended") {
    if (str(d.reason)) parts.push(String(d.reason));
  }
  if (e.type === "settings.changed" && str(d.setting)) parts.push(`${String(d.setting)}: ${JSON.stringify(d.old ?? null)} → ${JSON.stringify(d.new ?? null)}`);
  if (str(d.name) && !parts.length) parts.push(String(d.name));
  if (str(d.email) && !parts.length) parts.push(String(d.email));
  if (str(d.address) && e.type.startsWith("console.")) parts.push(`from ${String(d.address)}`);
  if (str(d.expiresAt) && e.type === "agent.elevation_allowed") parts.push(`until ${String(d.expiresAt)}`);
  return parts.join(" · ");
}
