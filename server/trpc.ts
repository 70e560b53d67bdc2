// tRPC set-up: the request context (services, session), role checks and error mapping in middleware.
import type { IncomingMessage, ServerResponse } from "node:http";
import { initTRPC, TRPCError } from "@trpc/server";
import { AppError } from "../core/app-error";
import type { ConsoleUser } from "../core/console-api";
import { can, RoleSchema, type Permission } from "../core/roles";
import { readCookie, serializeSessionCookie, sessionCookieName, validateSession } from "./auth/sessions";
import { issuesOf, toTrpcError } from "./errors";
import type { ServiceContext } from "./services/context";

export type RequestContext = {
  services: ServiceContext;
  req: IncomingMessage;
  res: ServerResponse;
  address: string;
  secureCookies: boolean;
  /** The public origin the console is reached at, for commands shown to admins. */
  origin: string;
  session: { id: string; user: ConsoleUser; viaCookie: boolean } | null;
};

export type ContextDeps = { services: ServiceContext; publicUrl: string | null };

function requestOrigin(req: IncomingMessage, publicUrl: string | null): string {
  if (publicUrl) return publicUrl;
  const host = req.headers.host ?? "localhost";
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  return `${proto}://${host}`;
}

export async function createRequestContext(deps: ContextDeps, req: IncomingMessage, res: ServerResponse): Promise<RequestContext> {
  const origin = requestOrigin(req, deps.publicUrl);
  const secureCookies = origin.startsWith("https://");
  const now = deps.services.now();
  let session: RequestContext["session"] = null;
  const auth = req.headers.authorization;
  const bearer = auth?.startsWith("Bearer ") ? auth.slice(7).trim() : null;
  const cookie = readCookie(req.headers.cookie, sessionCookieName(secureCookies));
  const token = bearer ?? cookie;
  if (token) {
    const s = await validateSession(deps.services.db, token, now);
    const role = s ? RoleSchema.safeParse(s.user.role) : null;
    if (s && role?.success) {
      session = { id: s.id, user: { id: s.user.id, email: s.user.email, role: role.data }, viaCookie: !bearer };
      if (s.refreshed && !bearer) res.appendHeader("Set-Cookie", serializeSessionCookie(token, s.idleExpiresAt, secureCookies));
    }
  }
  return { services: deps.services, req, res, address: req.socket.remoteAddress ?? "unknown", secureCookies, origin, session };
}

const t = initTRPC.context<RequestContext>().create({
  errorFormatter({ shape, error }) {
    return { ...shape, data: { ...shape.data, stack: undefined, issues: issuesOf(error) } };
  },
});

export const router = t.router;

/** Maps AppError to tRPC errors and never lets an unexpected error's details reach the client. */
const errors = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause;
  if (cause instanceof AppError) throw toTrpcError(cause);
  if (result.error.code === "INTERNAL_SERVER_ERROR") {
    ctx.services.log.error({ err: cause ?? result.error, path }, "tRPC procedure failed");
    throw toTrpcError(new Error("unexpected"));
  }
  return result;
});

/**
 * Refuses state-changing requests that another site made the browser send (a cookie session only:
 * a bearer token is not sent by browsers on their own).
 */
const sameSite = t.middleware(async ({ ctx, type, next }) => {
  if (type === "mutation" && !(ctx.req.headers.authorization ?? "").startsWith("Bearer ")) {
    const site = ctx.req.headers["sec-fetch-site"];
    const originHeader = ctx.req.headers.origin;
    const bad = (typeof site === "string" && site !== "same-origin" && site !== "none") || (typeof originHeader === "string" && originHeader !== ctx.origin && new URL(originHeader).host !== ctx.req.headers.host);
    if (bad) throw new TRPCError({ code: "FORBIDDEN", message: "Cross-site request refused." });
  }
  return next();
});

export const publicProcedure = t.procedure.use(errors).use(sameSite);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.session) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  return next({ ctx: { ...ctx, session: ctx.session, user: ctx.session.user } });
});

export function procedureFor(permission: Permission) {
  return authedProcedure.use(({ ctx, next }) => {
    if (!can(ctx.user.role, permission)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `Your role (${ctx.user.role}) may not do this (${permission}).` });
    }
    return next();
  });
}
