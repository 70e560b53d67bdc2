// The one place where our AppError codes become tRPC errors and HTTP statuses.
import { TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { AppError, type AppErrorCode } from "../core/app-error";

const TRPC_CODES: Record<AppErrorCode, TRPCError["code"]> = {
  bad_request: "BAD_REQUEST",
  unauthorized: "UNAUTHORIZED",
  forbidden: "FORBIDDEN",
  not_found: "NOT_FOUND",
  conflict: "CONFLICT",
  too_many_requests: "TOO_MANY_REQUESTS",
  gone: "NOT_FOUND",
  internal: "INTERNAL_SERVER_ERROR",
};

export const HTTP_STATUS: Record<AppErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_many_requests: 429,
  gone: 410,
  internal: 500,
};

export function toTrpcError(e: unknown): TRPCError {
  if (e instanceof TRPCError) return e;
  if (e instanceof AppError) return new TRPCError({ code: TRPC_CODES[e.code], message: e.message, cause: e });
  return new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on the server. It was logged; try again.", cause: e instanceof Error ? e : undefined });
}

/** ParseIssue[] carried by a BAD_REQUEST, for the console to put each message beside its field. */
export function issuesOf(error: TRPCError): unknown {
  const cause = error.cause;
  if (cause instanceof AppError && cause.details && typeof cause.details === "object" && "issues" in cause.details) return (cause.details as { issues: unknown }).issues;
  if (cause instanceof ZodError) return cause.issues.map((i) => ({ code: i.code, path: i.path.map(String).join("."), message: i.message }));
  return undefined;
}
