import { z } from "zod";
import { AuthStatusSchema, ConsoleUserSchema, CredentialsSchema, SetupOwnerSchema } from "../../core/console-api";
import { clearSessionCookie, serializeSessionCookie } from "../auth/sessions";
import { createUser, hasAnyUser, signIn, signOut } from "../services/users";
import { authedProcedure, publicProcedure, router } from "../trpc";

export const authRouter = router({
  status: publicProcedure.output(AuthStatusSchema).query(async ({ ctx }) => ({
    needsOwner: !(await hasAnyUser(ctx.services)),
    user: ctx.session?.user ?? null,
  })),

  setupOwner: publicProcedure
    .input(SetupOwnerSchema)
    .output(z.object({ user: ConsoleUserSchema }))
    .mutation(async ({ ctx, input }) => {
      await createUser(ctx.services, { ...input, role: "owner" }, { onlyIfNone: true, actor: null });
      const s = await signIn(ctx.services, input.email, input.password, ctx.address);
      ctx.res.appendHeader("Set-Cookie", serializeSessionCookie(s.token, s.expiresAt, ctx.secureCookies));
      return { user: s.user };
    }),

  login: publicProcedure
    .input(CredentialsSchema)
    .output(z.object({ user: ConsoleUserSchema }))
    .mutation(async ({ ctx, input }) => {
      const s = await signIn(ctx.services, input.email, input.password, ctx.address);
      ctx.res.appendHeader("Set-Cookie", serializeSessionCookie(s.token, s.expiresAt, ctx.secureCookies));
      return { user: s.user };
    }),

  /** For jit-ctl: the session token comes back in the body (no cookie); the CLI keeps it in a 0600 file. */
  createCliSession: publicProcedure
    .input(CredentialsSchema)
    .output(z.object({ user: ConsoleUserSchema, token: z.string(), expiresAt: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const s = await signIn(ctx.services, input.email, input.password, ctx.address);
      return { user: s.user, token: s.token, expiresAt: s.expiresAt.toISOString() };
    }),

  logout: authedProcedure.output(z.object({ ok: z.literal(true) })).mutation(async ({ ctx }) => {
    await signOut(ctx.services, ctx.session.id, ctx.user);
    if (ctx.session.viaCookie) ctx.res.appendHeader("Set-Cookie", clearSessionCookie(ctx.secureCookies));
    return { ok: true as const };
  }),
});
