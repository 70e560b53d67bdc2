// The console's and jit-ctl's API: one router per noun.
import { router } from "../trpc";
import { allowlistRouter } from "./allowlist";
import { authRouter } from "./auth";
import { computersRouter } from "./computers";
import { eventsRouter } from "./events";
import { policiesRouter } from "./policies";
import { requestsRouter } from "./requests";
import { settingsRouter } from "./settings";
import { syncRouter } from "./sync";
import { usersRouter } from "./users";

export const appRouter = router({
  auth: authRouter,
  policies: policiesRouter,
  allowlist: allowlistRouter,
  computers: computersRouter,
  events: eventsRouter,
  users: usersRouter,
  requests: requestsRouter,
  settings: settingsRouter,
  sync: syncRouter,
});

export type AppRouter = typeof appRouter;
