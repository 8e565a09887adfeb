/** SQLite via better-sqlite3: one connection, WAL, foreign keys, fully synchronous commits. */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Expression, SqlBool } from 'kysely';
import type { SqlFlavor } from './flavor.js';
import type { Database } from './schema.js';
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
  jobTagsWithin: (tags): Expression<SqlBool> =>
    sql<SqlBool>`not exists (select 1 from json_each(${sql.ref('jobs.tag_list')}) as t where t.value not in (${sql.join(tags)}))`,
  jobResourceGroup: (): Expression<string | null> =>
    sql<string | null>`json_extract(${sql.ref('jobs.definition')}, '$.resourceGroup')`,
};

export interface OpenSqliteOptions {
  /**
   * A database that nothing reads after the process ends (`flotilla run`'s): no fsync and the
   * rollback journal in memory. A crash may corrupt it, which costs nothing: the run is gone too.
   */
  throwaway?: boolean;
}

/** Opens (creating if missing) the database file, or an in-memory database for `:memory:`. */
export function openSqlite(filename: string, options: OpenSqliteOptions = {}): Kysely<Database> {
  const database = new BetterSqlite3(filename);
  try {
    database.pragma(options.throwaway ? 'journal_mode = MEMORY' : 'journal_mode = WAL');
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
    // WAL's default (NORMAL) may lose the last commits on power loss; an acknowledged write
    // (a job's status, a trace append) must survive it, so sync the WAL on every commit. Do not
    // relax this for speed: the statement cache below is where the cheap gain was. Only a
    // throwaway database, which no one will read after a power loss, skips the syncs.
    database.pragma(options.throwaway ? 'synchronous = OFF' : 'synchronous = FULL');
  } catch (err) {
    database.close();
    throw err;
  }
  // Kysely prepares every query again; the cache reuses one statement per SQL text.
  return new Kysely<Database>({
    dialect: new SqliteDialect({ database: new CachingSqliteDatabase(database) }),
  });
}
