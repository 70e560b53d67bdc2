// The console's and jit-ctl's API: one router per noun.
import { router } from "../trpc";
import { authRouter } from "./auth";
import { computersRouter } from "./computers";
import { policiesRouter } from "./policies";
import { usersRouter } from "./users";

export const appRouter = router({
  auth: authRouter,
  policies: policiesRouter,
  computers: computersRouter,
  users: usersRouter,
});

export type AppRouter = typeof appRouter;
