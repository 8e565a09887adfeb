/**
 * On PostgreSQL the store's compiled templates run as named prepared statements: parsed and planned
 * once per connection, then only bound and executed. Checked on one connection (pool of one), in a
 * schema of its own. A statement whose tables changed under it (another process migrated) is
 * prepared again under a new name and the call retried; a server that lost the connection's
 * statements (a pooler between) turns the pool to unnamed statements; `preparedStatements: false`
 * never names one.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger, type Logger } from '../../src/shared/logger.js';
import { openPostgres, postgresFlavor } from '../../src/coordinator/store/sql/postgres/dialect.js';
import { runTemplate, statementNameOf } from '../../src/coordinator/store/sql/query-template.js';
import type { Database } from '../../src/coordinator/store/sql/schema.js';

const PG_BASE_URL = process.env.FLOTILLA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type Things = Kysely<{ things: { id: number; name: string } }>;

describe('postgres: named prepared statements', () => {
  const schema = `flotilla_test_prep_${randomBytes(4).toString('hex')}`;
  /** A second connection: another process of the fleet (migrating, or holding statement names). */
  let other: pg.Client;
  let dbs: Kysely<Database>[] = [];

  async function open(options: { preparedStatements?: boolean; logger?: Logger } = {}) {
    const { db } = await openPostgres({
      connectionString: PG_BASE_URL,
      schema,
      poolSize: 1,
      logger: options.logger,
      ...(options.preparedStatements === undefined ? {} : { preparedStatements: options.preparedStatements }),
    });
    dbs.push(db);
    return db;
  }

  beforeAll(async () => {
    other = new pg.Client({ connectionString: PG_BASE_URL });
    await other.connect();
    await other.query(`create schema "${schema}"`);
    await other.query(`create table "${schema}".things (id integer primary key, name text not null)`);
    await other.query(`insert into "${schema}".things values (1, 'one')`);
  });

  // The tests add columns and never drop one: a store opened meanwhile by another test file in the
  // same database lists every schema's columns while migrating (kysely's introspection), and a
  // column dropped under that listing fails it.
  afterEach(async () => {
    await Promise.all(dbs.map((db) => db.destroy()));
    dbs = [];
  });

  afterAll(async () => {
    await other.query(`drop schema if exists "${schema}" cascade`);
    await other.end();
  });

  const build = (db: Kysely<Database>) => (slot: (i: number) => unknown) =>
    (db as unknown as Things)
      .selectFrom('things')
      .selectAll()
      .where('id', '=', slot(0) as number);
  const read = (db: Kysely<Database>, id = 1) =>
    runTemplate<Record<string, unknown>>(
      { db, flavor: postgresFlavor },
      'prepared-test:things',
      [id],
      build(db),
    );

  async function prepared(db: Kysely<Database>): Promise<string[]> {
    const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(
      db,
    );
    return rows.map((r) => r.statement).filter((s) => s.includes('"things"'));
  }

  it('runs a template as a prepared statement of its connection, prepared once', async () => {
    const db = await open();
    expect(await read(db)).toEqual([{ id: 1, name: 'one' }]);
    expect(await read(db)).toEqual([{ id: 1, name: 'one' }]);
    expect(await prepared(db)).toHaveLength(1);
  });

  it('prepares a statement again and retries the call after another process changed its table', async () => {
    const db = await open();
    await read(db);
    await other.query(`alter table "${schema}".things add column extra text`);
    // PostgreSQL refuses the old plan (its result type changed); the call does not see it.
    expect(await read(db)).toEqual([{ id: 1, name: 'one', extra: null }]);
    expect(await read(db)).toEqual([{ id: 1, name: 'one', extra: null }]);
  });

  it('fails the statement inside a transaction, and prepares it again for the next call', async () => {
    const db = await open();
    await read(db);
    await other.query(`alter table "${schema}".things add column inside text`);
    const failed = await db
      .transaction()
      .execute((trx) => read(trx))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect((failed as { code?: string }).code).toBe('0A000');
    expect(await read(db)).toEqual([{ id: 1, name: 'one', extra: null, inside: null }]);
    await db.transaction().execute(async (trx) => {
      expect(await read(trx)).toEqual([{ id: 1, name: 'one', extra: null, inside: null }]);
    });
  });

  it('turns to unnamed statements, warning once, when the server lost them (DEALLOCATE ALL by a pooler)', async () => {
    const logger = silentLogger();
    const warn = vi.spyOn(logger, 'warn');
    const db = await open({ logger });
    await read(db);
    await sql`deallocate all`.execute(db);
    expect(await read(db)).toMatchObject([{ id: 1, name: 'one' }]);
    expect(await read(db)).toMatchObject([{ id: 1, name: 'one' }]);
    expect(await prepared(db)).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[1])).toMatch(/prepared_statements=false/);
  });

  it('turns to unnamed statements when the server holds another statement of that name', async () => {
    const db = await open();
    const name = statementNameOf(build(db)(() => 1).compile().sql);
    expect(name).toBeDefined();
    // The name taken on this server connection before the store prepares it (a pooler's other client).
    await sql.raw(`prepare ${name ?? ''} as select 1`).execute(db);
    expect(await read(db)).toMatchObject([{ id: 1, name: 'one' }]);
  });

  it('sends every statement unnamed with preparedStatements: false', async () => {
    const db = await open({ preparedStatements: false });
    expect(await read(db)).toMatchObject([{ id: 1, name: 'one' }]);
    expect(await read(db)).toMatchObject([{ id: 1, name: 'one' }]);
    expect(await prepared(db)).toEqual([]);
  });
});
