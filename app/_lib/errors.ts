// Reading tRPC errors for people: the server's message, and validation issues by field path.
import { TRPCClientError } from "@trpc/client";
import type { ParseIssue } from "../../core/parse-result";

export function errorCode(error: unknown): string | undefined {
  if (error instanceof TRPCClientError) return (error.data as { code?: string } | undefined)?.code;
  return undefined;
}

export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) {
    if (error.message && !error.message.startsWith("Unexpected token")) return error.message;
    return "The server could not be reached or answered with an error. Try again.";
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong. Try again.";
}

/** The `ParseIssue[]` the server attaches to a BAD_REQUEST about a policy, if any. */
export function errorIssues(error: unknown): ParseIssue[] {
  if (!(error instanceof TRPCClientError)) return [];
  const issues = (error.data as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(issues)) return [];
  return issues.filter(
    (i): i is ParseIssue => typeof i === "object" && i !== null && typeof (i as ParseIssue).path === "string" && typeof (i as ParseIssue).message === "string",
  );
}

/** A validation message as a sentence: capitalised, with a full stop. */
export function sentence(s: string): string {
  const t = s.length ? s[0]!.toUpperCase() + s.slice(1) : s;
  return t.endsWith(".") ? t : `${t}.`;
}
