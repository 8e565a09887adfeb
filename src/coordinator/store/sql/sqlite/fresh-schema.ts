/**
 * A new SQLite database gets the migrations' schema in one transaction of prepared DDL (the
 * statements SQLite recorded after running them, fresh-schema-sql.ts) instead of running each
 * migration through kysely's Migrator: building and compiling some 40 statements with the query
 * builder was most of the time `flotilla run` took to open its throwaway store. The result is the
 * same database: the same `sqlite_master` (tables, indexes, their SQL, in the same order) and the
 * same Migrator bookkeeping (`kysely_migration` with one row per migration, the unlocked
 * `kysely_migration_lock` row), so a later open of the same file sees every migration applied and
 * a migration added later applies on top as usual.
 */
import type BetterSqlite3 from 'better-sqlite3';

import { FRESH_SCHEMA_MIGRATIONS, FRESH_SCHEMA_SQL } from './fresh-schema-sql.js';

/** The Migrator's lock row (kysely's DEFAULT_MIGRATION_LOCK_TABLE row id). */
const LOCK_ROW_ID = 'migration_lock';

/** The statements that recreate a database's schema: `sqlite_master` in creation order. */
export function freshSchemaStatements(database: BetterSqlite3.Database): string[] {
  const rows = database
    .prepare(`select name, sql from sqlite_master where sql is not null order by rowid`)
    .all() as { name: string; sql: string }[];
  // SQLite creates sqlite_sequence itself with the first AUTOINCREMENT table.
  return rows.filter((r) => r.name !== 'sqlite_sequence').map((r) => r.sql);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/**
 * When the database is empty and `migrations` are exactly the ones the stored schema was made
 * from, creates that schema with the Migrator's rows (timestamped `now`) and answers true; else
 * changes nothing and answers false (the caller runs the migrations). Checked and written in one
 * write transaction, so a concurrent opener sees either nothing or everything.
 */
export function createFreshSchema(
  database: BetterSqlite3.Database,
  migrations: readonly string[],
  now: Date,
): boolean {
  if (!sameNames(migrations, FRESH_SCHEMA_MIGRATIONS)) return false;
  const create = database.transaction((): boolean => {
    const { tables } = database.prepare(`select count(*) as tables from sqlite_master`).get() as {
      tables: number;
    };
    if (tables > 0) return false;
    database.exec(FRESH_SCHEMA_SQL.join(';\n'));
    const timestamp = now.toISOString();
    const record = database.prepare(`insert into "kysely_migration" ("name", "timestamp") values (?, ?)`);
    for (const name of migrations) record.run(name, timestamp);
    database
      .prepare(`insert into "kysely_migration_lock" ("id", "is_locked") values (?, 0)`)
      .run(LOCK_ROW_ID);
    return true;
  });
  return create.immediate();
}
