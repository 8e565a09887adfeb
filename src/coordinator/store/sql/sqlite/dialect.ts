/**
 * SQLite via better-sqlite3: one connection, WAL, foreign keys. Durability of an acknowledged
 * write comes from group commit (`group-commit.ts`): commits do not sync on their own
 * (`synchronous = NORMAL`), and a request is answered only after a shared WAL sync covered them.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Expression, SqlBool } from 'kysely';
import type { SqlFlavor } from '../flavor.js';
import type { Database } from '../schema.js';
import { WalGroupSync } from './group-commit.js';
import { CachingSqliteDatabase } from './statement-cache.js';

/** How long a writer waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

export const sqliteFlavor: SqlFlavor = {
  name: 'sqlite',
  rowLocks: false,
  columnTypes: { date: 'text', bool: 'integer', binary: 'blob' },
  // ISO-8601 UTC text of fixed width sorts and compares in time order.
  toDate: (value) => value.toISOString(),
  toBool: (value) => (value ? 1 : 0),
  transaction: (db, fn) =>
    // kysely's SQLite driver hands out its single connection under a mutex, so this also
    // serialises transactions within the process.
    db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await fn(conn);
        await sql`commit`.execute(conn);
        return result;
      } catch (err) {
        // SQLite may already have rolled back (e.g. disk full); keep the original error.
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw err;
      }
    }),
  tagParameters: (tags) => tags,
  jobTagsWithin: (tags): Expression<SqlBool> =>
    sql<SqlBool>`not exists (select 1 from json_each(${sql.ref('jobs.tag_list')}) as t where t.value not in (${sql.join([...tags])}))`,
  jobResourceGroup: (): Expression<string | null> =>
    sql<string | null>`json_extract(${sql.ref('jobs.definition')}, '$.resourceGroup')`,
  jobTimeoutSeconds: (): Expression<number | null> =>
    sql<number | null>`json_extract(${sql.ref('jobs.definition')}, '$.timeoutSeconds')`,
  smaller: (value, bound): Expression<number> => sql<number>`min(${value}, ${bound})`,
};

export interface OpenSqliteOptions {
  /**
   * A database that nothing reads after the process ends (`flotilla run`'s): no fsync, the
   * rollback journal in memory, and the file locked by its one connection until it closes. A crash
   * may corrupt it, which costs nothing: the run is gone too.
   */
  throwaway?: boolean;
}

export interface OpenedSqlite {
  db: Kysely<Database>;
  /** Resolves once every commit so far is on stable storage; undefined: commits sync themselves. */
  durability: WalGroupSync | undefined;
  /** The better-sqlite3 connection under `db` (for fresh-schema.ts). */
  raw: BetterSqlite3.Database;
}

/** The first places the `bindings` package looks for the addon, in its order. */
const ADDON_PLACES = ['build', 'build/Debug', 'build/Release'];

let addonFile: string | null | undefined;

/**
 * The compiled addon's file, found as better-sqlite3's default (`bindings`) would find it, or
 * null to leave the search to it. `bindings` tries a dozen places from a stack trace on each
 * process's first open; naming the file saved 3-5 ms of `flotilla run`'s start.
 */
export function sqliteAddonFile(): string | null {
  if (addonFile !== undefined) return addonFile;
  addonFile = null;
  try {
    const root = path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
    const found = ADDON_PLACES.map((dir) => path.join(root, dir, 'better_sqlite3.node')).find((f) =>
      existsSync(f),
    );
    addonFile = found ?? null;
  } catch {
    // An unusual layout: better-sqlite3 finds its addon itself.
  }
  return addonFile;
}

/** Opens (creating if missing) the database file, or an in-memory database for `:memory:`. */
export function openSqlite(filename: string, options: OpenSqliteOptions = {}): OpenedSqlite {
  const addon = sqliteAddonFile();
  const database = new BetterSqlite3(filename, addon === null ? {} : { nativeBinding: addon });
  let durability: WalGroupSync | undefined;
  try {
    const journal = options.throwaway ? 'journal_mode = MEMORY' : 'journal_mode = WAL';
    const mode = String(database.pragma(journal, { simple: true })).toLowerCase();
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
    if (options.throwaway) {
      // No one reads this database after a power cut: no syncs at all.
      database.pragma('synchronous = OFF');
      // Only this connection opens the file while the process runs: it keeps its lock from the
      // first statement on, and no statement takes and drops file locks or checks for another
      // writer's journal (about ten system calls per statement, thousands per `flotilla run`).
      // The lock goes with the connection at close (`--keep` leaves a file anyone can open).
      database.pragma('locking_mode = EXCLUSIVE');
    } else if (mode === 'wal' && !database.memory) {
      // An acknowledged write (a job's status, a trace append) must survive a power cut: commits
      // go to the WAL without a sync, and `durable()` syncs it once for all of them before the
      // coordinator answers (group commit). Never answer a runner without awaiting it.
      database.pragma('synchronous = NORMAL');
      durability = new WalGroupSync(path.resolve(database.name));
    } else {
      // Without a WAL (in-memory, or a file system that refuses it) every commit syncs itself.
      database.pragma('synchronous = FULL');
    }
  } catch (err) {
    database.close();
    throw err;
  }
  const observer = durability
    ? (wrote: boolean, inTransaction: boolean) => durability.afterStatement(wrote, inTransaction)
    : undefined;
  // Kysely prepares every query again; the cache reuses one statement per SQL text.
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({
      database: new CachingSqliteDatabase(database, undefined, observer),
    }),
  });
  return { db, durability, raw: database };
}
