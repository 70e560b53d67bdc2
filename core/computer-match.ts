// Which computers a policy names: exact names (case-insensitive) and name patterns with "*" and "?" ("build-*").
import { normalizeComputerName } from "./names";

export function isComputerPattern(entry: string): boolean {
  return /[*?]/.test(entry);
}

function patternToRegExp(pattern: string): RegExp {
  const body = normalizeComputerName(pattern)
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\-]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`);
}

/** True when the entry (a name or a pattern) names this computer. */
export function computerEntryMatches(entry: string, computerName: string): boolean {
  const name = normalizeComputerName(computerName);
  if (!isComputerPattern(entry)) return normalizeComputerName(entry) === name;
  return patternToRegExp(entry).test(name);
}

/** True when any of a policy's computer entries names this computer. */
export function policyCoversComputer(entries: readonly string[], computerName: string): boolean {
  return entries.some((e) => computerEntryMatches(e, computerName));
}
