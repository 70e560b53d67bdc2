// What every service gets: the database, the clock, the change feed, the signing key and a logger.
import type { Logger } from "pino";
import type { ChangeFeed } from "../change-feed";
import type { Db, Dialect } from "../db/schema";
import type { SigningKey } from "../signing-key";

export type ServiceContext = {
  db: Db;
  dialect: Dialect;
  now: () => Date;
  feed: ChangeFeed;
  signingKey: SigningKey;
  log: Logger;
  /** Bundles stay valid this long after issue; an agent that cannot refresh then allows nothing. */
  bundleValidityMs: number;
};
