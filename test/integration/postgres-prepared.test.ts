/**
 * On PostgreSQL the store's compiled templates run as named prepared statements: parsed and planned
 * once per connection, then only bound and executed. Checked on one connection (pool of one), in a
 * schema of its own. A statement whose tables changed under it (another process migrated) fails
 * once and is prepared again under a new name on the next call.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, postgresFlavor } from '../../src/coordinator/store/sql/postgres/dialect.js';
import { runTemplate } from '../../src/coordinator/store/sql/query-template.js';
import type { Database } from '../../src/coordinator/store/sql/schema.js';

const PG_BASE_URL = process.env.FLOTILLA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('postgres: named prepared statements', () => {
  const schema = `flotilla_test_prep_${randomBytes(4).toString('hex')}`;
  let db: Kysely<Database>;

  beforeAll(async () => {
    db = await openPostgres({ connectionString: PG_BASE_URL, schema, poolSize: 1, logger: undefined });
    await sql`create table ${sql.id(schema, 'things')} (id integer primary key, name text not null)`.execute(
      db,
    );
    await sql`insert into ${sql.id(schema, 'things')} values (1, 'one')`.execute(db);
  });

  afterAll(async () => {
    await db.destroy();
    const admin = new pg.Client({ connectionString: PG_BASE_URL });
    await admin.connect();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  });

  const ctx = () => ({ db, flavor: postgresFlavor });
  const read = (key: string, id: number) =>
    runTemplate<Record<string, unknown>>(ctx(), key, [id], (slot) =>
      (db as unknown as Kysely<{ things: { id: number; name: string } }>)
        .selectFrom('things')
        .selectAll()
        .where('id', '=', slot(0)),
    );

  async function prepared(): Promise<string[]> {
    const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(
      db,
    );
    return rows.map((r) => r.statement);
  }

  it('runs a template as a prepared statement of its connection, prepared once', async () => {
    expect(await read('prepared-test:things', 1)).toEqual([{ id: 1, name: 'one' }]);
    expect(await read('prepared-test:things', 1)).toEqual([{ id: 1, name: 'one' }]);
    const statements = (await prepared()).filter((s) => s.includes('"things"'));
    expect(statements).toHaveLength(1);
  });

  it('prepares a statement again under a new name after its table changed', async () => {
    await read('prepared-test:things', 1);
    await sql`alter table ${sql.id(schema, 'things')} add column extra text`.execute(db);
    // PostgreSQL refuses the old plan once (its result type changed) ...
    await read('prepared-test:things', 1).then(
      () => undefined,
      (err: unknown) => expect((err as { code?: string }).code).toBe('0A000'),
    );
    // ... and the next call prepares it again.
    expect(await read('prepared-test:things', 1)).toEqual([{ id: 1, name: 'one', extra: null }]);
  });
});
