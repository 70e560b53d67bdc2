// Opens the database named by the configuration: SQLite (WAL) under DATA_DIR by default, PostgreSQL for a URL.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { Database, Db, Dialect } from "./schema";

export type DbHandle = { db: Db; dialect: Dialect; describe: string };

export function openDatabase(opts: { databaseUrl: string | null; dataDir: string; pgPoolMax?: number }): DbHandle {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.pgPoolMax ?? 10 });
    // A dropped idle connection must not crash the server; the pool replaces it.
    pool.on("error", () => {});
    const url = new URL(opts.databaseUrl);
    return {
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      dialect: "postgres",
      describe: `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`,
    };
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const file = join(opts.dataDir, "jit.db");
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("synchronous = NORMAL");
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: "sqlite", describe: `SQLite ${file}` };
}
