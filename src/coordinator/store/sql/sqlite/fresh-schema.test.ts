import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { createLogger } from '../../../../shared/logger.js';
import { createStore } from '../../create-store.js';
import { buildMigrations, migrateToLatest } from '../migrations.js';
import { openSqlite, sqliteFlavor } from './dialect.js';
import { createFreshSchema, freshSchemaStatements } from './fresh-schema.js';
import { FRESH_SCHEMA_MIGRATIONS, FRESH_SCHEMA_SQL } from './fresh-schema-sql.js';

const names = Object.keys(buildMigrations(sqliteFlavor));

/** Everything of a database's schema and the Migrator's bookkeeping but the timestamps. */
function describeSchema(database: BetterSqlite3.Database) {
  return {
    master: database.prepare('select type, name, tbl_name, sql from sqlite_master order by rowid').all(),
    migrations: database.prepare('select name from kysely_migration order by name').all(),
    lock: database.prepare('select * from kysely_migration_lock').all(),
    columns: database
      .prepare("select name from sqlite_master where type = 'table' order by name")
      .all()
      .map((t) => database.pragma(`table_xinfo("${(t as { name: string }).name}")`)),
  };
}

describe('the fresh SQLite schema', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('is what the migrations create (regenerate with scripts/sqlite-fresh-schema.mjs)', async () => {
    const { db, raw } = openSqlite(':memory:');
    await migrateToLatest(db, sqliteFlavor);
    expect(FRESH_SCHEMA_MIGRATIONS).toEqual(names);
    expect(FRESH_SCHEMA_SQL).toEqual(freshSchemaStatements(raw));
    const fresh = new BetterSqlite3(':memory:');
    expect(createFreshSchema(fresh, names, new Date())).toBe(true);
    expect(describeSchema(fresh)).toEqual(describeSchema(raw));
    fresh.close();
    await db.destroy();
  });

  it('records every migration as applied, so the Migrator finds nothing to do', async () => {
    const fresh = openSqlite(':memory:');
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(createFreshSchema(fresh.raw, names, at)).toBe(true);
    expect(fresh.raw.prepare('select name, timestamp from kysely_migration order by name').all()).toEqual(
      names.map((name) => ({ name, timestamp: at.toISOString() })),
    );
    let fromMigrator: readonly string[] | undefined;
    await migrateToLatest(fresh.db, sqliteFlavor, {
      createFresh: (m) => {
        fromMigrator = m;
        return createFreshSchema(fresh.raw, m, at);
      },
    });
    expect(fromMigrator).toEqual(names);
    expect(fresh.raw.prepare('select count(*) as n from kysely_migration').get()).toEqual({
      n: names.length,
    });
    await fresh.db.destroy();
  });

  it('leaves a database with tables, or other migrations, to the Migrator', () => {
    const used = new BetterSqlite3(':memory:');
    used.exec('create table other (x integer)');
    expect(createFreshSchema(used, names, new Date())).toBe(false);
    expect(freshSchemaStatements(used)).toEqual(['CREATE TABLE other (x integer)']);
    const empty = new BetterSqlite3(':memory:');
    expect(createFreshSchema(empty, [...names, '9999_later'], new Date())).toBe(false);
    expect(createFreshSchema(empty, names.slice(1), new Date())).toBe(false);
    expect(freshSchemaStatements(empty)).toEqual([]);
    used.close();
    empty.close();
  });

  it('gives a store file that opens again as fully migrated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-fresh-'));
    dirs.push(dir);
    const file = join(dir, 'store.db');
    const first = await createStore(file, { throwaway: true });
    await first.ensureRootUser();
    await first.close();
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const third = join(dir, 'third.db');
    const logger = createLogger({ level: 'info', format: 'json', destination });
    await (await createStore(third, { logger })).close();
    // A new store says what it applied, as the Migrator's path does; a migrated one says nothing.
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({ msg: 'store migrated', migrations: names, dialect: 'sqlite' }),
    ]);
    const second = await createStore(file, { logger });
    expect(lines).toHaveLength(1);
    expect((await second.ensureRootUser()).id).toBe(1);
    await second.close();
  });
});
