// The console's and jit-ctl's API: one router per noun.
import { router } from "../trpc";
import { allowlistRouter } from "./allowlist";
import { authRouter } from "./auth";
import { computersRouter } from "./computers";
import { eventsRouter } from "./events";
import { notificationsRouter } from "./notifications";
import { policiesRouter } from "./policies";
import { pushRouter } from "./push";
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
  notifications: notificationsRouter,
  push: pushRouter,
});

export type AppRouter = typeof appRouter;
