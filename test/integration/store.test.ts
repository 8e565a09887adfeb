/**
 * Runs the Store conformance suite once per dialect named in STORES (default: sqlite,postgres).
 * Every test gets a fresh store: a new SQLite file, or a new PostgreSQL schema. PostgreSQL must be
 * running; when it is not, the suite fails with how to start it instead of skipping.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { describeStoreConformance } from '../kits/coordinator/store/conformance.js';
import { describeFleetConformance } from '../kits/coordinator/store/conformance-fleet.js';
import { describeRemovalConformance } from '../kits/coordinator/store/conformance-removal.js';
import { createStore } from '../../src/coordinator/store/create-store.js';

const PG_BASE_URL = process.env.FLOTILLA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const START_PG_HINT =
  'start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start ' +
  '(or point FLOTILLA_TEST_PG_URL at a server with trust auth, or run with STORES=sqlite)';

const stores = (process.env.STORES ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');

for (const name of stores) {
  if (name !== 'sqlite' && name !== 'postgres')
    throw new Error(`unknown store ${name} in STORES; use sqlite,postgres`);
}

if (stores.includes('sqlite')) {
  describe('sqlite (file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-store-it-'));
    let n = 0;
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const factory = () => createStore(`sqlite://${join(dir, `store-${(n += 1)}.db`)}`);
    describeStoreConformance('sqlite', factory);
    describeRemovalConformance('sqlite', factory);
    describeFleetConformance('sqlite', factory);
  });
  describe('sqlite (file, every log in a trace file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-store-it-'));
    let n = 0;
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const factory = () => {
      n += 1;
      return createStore(`sqlite://${join(dir, `store-${n}.db`)}`, {
        traceFiles: { dir: join(dir, `traces-${n}`), threshold: 0 },
      });
    };
    describeStoreConformance('sqlite', factory);
    describeRemovalConformance('sqlite', factory);
  });
}

if (stores.includes('postgres')) {
  describe('postgres', () => {
    const prefix = `flotilla_test_${randomBytes(4).toString('hex')}`;
    const schemas: string[] = [];

    async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
      const client = new pg.Client({ connectionString: PG_BASE_URL, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    }

    // Checked once, from the factory: an unreachable server fails every test with how to start
    // it, so the run can never pass by skipping PostgreSQL.
    let reachable: Promise<void> | undefined;
    function ensureReachable(): Promise<void> {
      reachable ??= admin((c) => c.query('select 1')).then(
        () => undefined,
        (err: unknown) => {
          const message = `PostgreSQL is not reachable at ${PG_BASE_URL} (${String(err)}); ${START_PG_HINT}`;
          throw new Error(message, { cause: err });
        },
      );
      return reachable;
    }

    afterAll(async () => {
      if (schemas.length === 0) return;
      await admin(async (c) => {
        for (const schema of schemas) await c.query(`drop schema if exists "${schema}" cascade`);
      });
    });

    const factory = async () => {
      await ensureReachable();
      const schema = `${prefix}_${schemas.length + 1}`;
      schemas.push(schema);
      return createStore(`${PG_BASE_URL}?schema=${schema}`);
    };
    describeStoreConformance('postgres', factory);
    describeRemovalConformance('postgres', factory);
    describeFleetConformance('postgres', factory);
  });
}
