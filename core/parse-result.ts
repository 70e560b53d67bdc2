// Parsing that collects every problem at once, each with a code and a path ("duration.length").
import type { z } from "zod";

export type ParseIssue = { code: string; path: string; message: string };
export type ParseResult<T> = { value: T; issues?: undefined } | { value?: undefined; issues: ParseIssue[] };

export function issuesFromZod(error: z.ZodError): ParseIssue[] {
  return error.issues.map((i) => ({
    code: i.code,
    path: i.path.map(String).join("."),
    message: i.code === "unrecognized_keys" ? `unknown field${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => JSON.stringify(k)).join(", ")}` : i.message,
  }));
}

/** One line per problem: "duration.length: expected <n>m|<n>h|<n>d, got \"2 hours\"". */
export function formatIssue(issue: ParseIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown): ParseResult<z.output<S>> {
  const r = schema.safeParse(input);
  return r.success ? { value: r.data } : { issues: issuesFromZod(r.error) };
}
