import { z } from "zod";
import { ConsoleUserSchema, EmailSchema, PasswordSchema } from "../../core/console-api";
import { RoleSchema } from "../../core/roles";
import { createUser, listUsers } from "../services/users";
import { procedureFor, router } from "../trpc";

export const usersRouter = router({
  list: procedureFor("users.manage")
    .output(z.object({ users: z.array(ConsoleUserSchema.extend({ disabled: z.boolean(), createdAt: z.string() })) }))
    .query(async ({ ctx }) => ({ users: await listUsers(ctx.services) })),
  create: procedureFor("users.manage")
    .input(z.object({ email: EmailSchema, password: PasswordSchema, role: RoleSchema }))
    .output(z.object({ user: ConsoleUserSchema }))
    .mutation(async ({ ctx, input }) => ({ user: await createUser(ctx.services, input, { onlyIfNone: false, actor: ctx.user }) })),
});
