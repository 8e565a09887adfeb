import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';

import { runTemplate } from './query-template.js';
import type { Database } from './schema.js';
import { sqliteFlavor } from './sqlite/dialect.js';

describe('runTemplate', () => {
  const dbs: Kysely<Database>[] = [];
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.destroy();
  });

  function open(): Kysely<Database> {
    const raw = new BetterSqlite3(':memory:');
    raw.exec('create table pipelines (id integer primary key, status text, ref text)');
    raw.exec("insert into pipelines (status, ref) values ('pending', 'main'), ('running', 'dev')");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
    dbs.push(db);
    return db;
  }

  it('compiles a shape once and binds each call its own values, constants kept in place', async () => {
    const ctx = { db: open(), flavor: sqliteFlavor };
    let builds = 0;
    const byRef = (ref: string) =>
      runTemplate<{ id: number }>(ctx, 'test:byRef', [ref], (slot) => {
        builds++;
        return ctx.db
          .selectFrom('pipelines')
          .select('id')
          .where('ref', '=', slot(0))
          .where('status', '<>', 'canceled');
      });
    expect(await byRef('main')).toEqual([{ id: 1 }]);
    expect(await byRef('dev')).toEqual([{ id: 2 }]);
    expect(await byRef('none')).toEqual([]);
    expect(builds).toBe(1);
  });

  it('puts a value used twice in both places, and runs writes with RETURNING', async () => {
    const ctx = { db: open(), flavor: sqliteFlavor };
    const move = (id: number, status: string) =>
      runTemplate<{ id: number; status: string }>(ctx, 'test:move', [status, id], (slot) =>
        ctx.db
          .updateTable('pipelines')
          .set({ status: slot(0) })
          .where('id', '=', slot(1))
          .where('status', '<>', slot(0))
          .returning(['id', 'status']),
      );
    expect(await move(1, 'running')).toEqual([{ id: 1, status: 'running' }]);
    // Already running: the condition bound from the same value matches no row.
    expect(await move(1, 'running')).toEqual([]);
    expect(await move(2, 'success')).toEqual([{ id: 2, status: 'success' }]);
  });
});
