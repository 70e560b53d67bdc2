// Command-line plumbing shared by the commands: strict parsing, and the two kinds of failure a user sees.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ClsidRuleSchema } from "../core/app-rule";

/** Bad usage (unknown or missing flag, bad value): one line, the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A failure the user should read, without a stack trace: `jit-agent: <message>`, exit `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Every command takes these. */
export const COMMON_OPTIONS = {
  "state-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/** node:util parseArgs in strict mode, with its errors turned into short UsageErrors. */
export function parseCommandArgs<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(shortParseError(e));
  }
}

function shortParseError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const m = /'([^']+)'/.exec(msg);
      return `unknown option ${m?.[1] ?? ""}`.trim();
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL": {
      const m = /'([^']*)'/.exec(msg);
      return `unexpected argument ${m ? JSON.stringify(m[1]) : ""}`.trim();
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const m = /'(-[^' ]+)/.exec(msg);
      return m ? `option ${m[1]} needs a value` : msg;
    }
    default:
      return msg;
  }
}

/** A required string flag: present and not blank. */
export function required(value: string | boolean | undefined, flag: string, what: string): string {
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`missing --${flag} ${what}`);
  return value;
}

/** Whole seconds in [min, max]. */
export function parseSeconds(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${flag} expects whole seconds from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function out(line = ""): void {
  process.stdout.write(line + "\n");
}
export function err(line: string): void {
  process.stderr.write(line + "\n");
}

/** `--clsid`: a COM class id as the CLSID rule type writes it (braces optional), or null when not given. */
export function parseClsidOption(value: string | boolean | undefined): string | null {
  if (typeof value !== "string") return null;
  const c = ClsidRuleSchema.shape.clsid.safeParse(value);
  if (!c.success) throw new UsageError(`--clsid: ${c.error.issues[0]?.message ?? "not a CLSID"}`);
  return c.data;
}
