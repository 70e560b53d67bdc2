// Debian version order (deb-version(7)) and version ranges as admins write them in a Products rule:
// ">=2.39", "<3", ">=1.2 <2" (every constraint must hold). Pure: used by decide() on the agent and in the console.

/** A parsed Debian version: [epoch:]upstream[-revision]. */
export type DebianVersion = { epoch: number; upstream: string; revision: string };

const UPSTREAM = /^[0-9][A-Za-z0-9.+~:-]*$/;

export function parseDebianVersion(text: string): DebianVersion | null {
  const v = text.trim();
  if (v === "" || /\s/.test(v)) return null;
  let epoch = 0;
  let rest = v;
  const colon = v.indexOf(":");
  if (colon >= 0) {
    const e = v.slice(0, colon);
    if (!/^[0-9]{1,9}$/.test(e)) return null;
    epoch = Number(e);
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf("-");
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : "";
  if (!UPSTREAM.test(upstream)) return null;
  if (dash >= 0 && !/^[A-Za-z0-9.+~]+$/.test(revision)) return null;
  return { epoch, upstream, revision };
}

/** The sort weight of one character in the non-digit parts: "~" before the end, the end before letters, letters before the rest. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === "~") return -1;
  if (/[0-9]/.test(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternate non-digit and digit runs. */
function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !/[0-9]/.test(a[i]!)) || (j < b.length && !/[0-9]/.test(b[j]!))) {
      const ac = order(i < a.length && !/[0-9]/.test(a[i]!) ? a[i] : undefined);
      const bc = order(j < b.length && !/[0-9]/.test(b[j]!) ? b[j] : undefined);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === "0") i++;
    while (b[j] === "0") j++;
    while (i < a.length && /[0-9]/.test(a[i]!) && j < b.length && /[0-9]/.test(b[j]!)) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && /[0-9]/.test(a[i]!)) return 1;
    if (j < b.length && /[0-9]/.test(b[j]!)) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Negative, zero or positive as a sorts before, equal to, or after b in Debian order. */
export function compareDebianVersions(a: DebianVersion, b: DebianVersion): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  const u = compareParts(a.upstream, b.upstream);
  if (u !== 0) return u;
  return compareParts(a.revision, b.revision);
}

export type VersionOp = ">=" | "<=" | ">" | "<" | "=";
export type VersionConstraint = { op: VersionOp; version: DebianVersion; text: string };

const OPS: Array<[string, VersionOp]> = [
  [">=", ">="],
  ["<=", "<="],
  [">>", ">"],
  ["<<", "<"],
  ["==", "="],
  [">", ">"],
  ["<", "<"],
  ["=", "="],
];

/** Parses "  >=1.2 <2 " into constraints, or says what is wrong. A bare version means "=". */
export function parseVersionRange(text: string): { constraints: VersionConstraint[] } | { error: string } {
  const parts = text
    .replace(/,/g, " ")
    .trim()
    .split(/\s+/)
    .filter((p) => p !== "");
  if (parts.length === 0) return { error: "the version range is empty" };
  const constraints: VersionConstraint[] = [];
  for (let k = 0; k < parts.length; k++) {
    let part = parts[k]!;
    let op: VersionOp = "=";
    const found = OPS.find(([sym]) => part.startsWith(sym));
    if (found) {
      op = found[1];
      part = part.slice(found[0].length);
      // ">= 2.39": an operator on its own takes the next word as its version.
      if (part === "" && k + 1 < parts.length) part = parts[++k]!;
    }
    const version = parseDebianVersion(part);
    if (!version) return { error: `"${part}" is not a version (expected e.g. >=2.39, <3, >=1.2 <2)` };
    constraints.push({ op, version, text: `${op}${part}` });
  }
  return { constraints };
}

export function satisfies(version: DebianVersion, constraint: VersionConstraint): boolean {
  const c = compareDebianVersions(version, constraint.version);
  switch (constraint.op) {
    case ">=":
      return c >= 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case "<":
      return c < 0;
    case "=":
      return c === 0;
  }
}

/** Does the version text fall in the range text? Unparseable input is an explanation, never a match. */
export function versionInRange(versionText: string, rangeText: string): { matched: boolean; detail: string } {
  const range = parseVersionRange(rangeText);
  if ("error" in range) return { matched: false, detail: range.error };
  const version = parseDebianVersion(versionText);
  if (!version) return { matched: false, detail: `the installed version "${versionText}" is not a Debian version` };
  const failed = range.constraints.find((c) => !satisfies(version, c));
  return failed ? { matched: false, detail: `version ${versionText} is not ${failed.text}` } : { matched: true, detail: `version ${versionText} is in ${rangeText.trim()}` };
}
