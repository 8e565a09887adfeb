/**
 * The coordinator's store for a bench part: SQLite (the default, a file in the data dir) or
 * PostgreSQL (scale-out), in a fresh schema of its own that is dropped afterwards.
 * `--database sqlite|postgres|both`; without it, both when PostgreSQL answers, and SQLite alone
 * (said loudly) when it does not.
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';

export type StoreKind = 'sqlite' | 'postgres';
export type DatabaseOption = StoreKind | 'both';

export const DATABASE_OPTIONS: readonly DatabaseOption[] = ['sqlite', 'postgres', 'both'];

/** The PostgreSQL server (trust auth or credentials in the URL); FLOTILLA_BENCH_PG_URL overrides. */
export const PG_URL = process.env['FLOTILLA_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const START_HINT =
  'start PostgreSQL (scripts/test-env.sh does), set FLOTILLA_BENCH_PG_URL to a server, or pass --database sqlite';

export function parseDatabaseOption(value: string | undefined): DatabaseOption | undefined {
  if (value === undefined) return undefined;
  if (!(DATABASE_OPTIONS as readonly string[]).includes(value))
    throw new Error(`--database must be one of ${DATABASE_OPTIONS.join(', ')}, not "${value}"`);
  return value as DatabaseOption;
}

export async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Null when PostgreSQL answers, else why not. */
export async function postgresProblem(): Promise<string | null> {
  return admin((c) => c.query('select 1')).then(
    () => null,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
}

/** The stores a part measures, in order. Throws when PostgreSQL was asked for and is not there. */
export async function storesFor(option: DatabaseOption | undefined): Promise<StoreKind[]> {
  if (option === 'sqlite') return ['sqlite'];
  const problem = await postgresProblem();
  if (problem === null) return option === 'postgres' ? ['postgres'] : ['sqlite', 'postgres'];
  const where = `PostgreSQL is not reachable at ${PG_URL} (${problem})`;
  if (option !== undefined) throw new Error(`${where}; ${START_HINT}`);
  console.log(`  NOTE: ${where}; measuring SQLite only (${START_HINT})`);
  return ['sqlite'];
}

export interface BenchDatabase {
  kind: StoreKind;
  /** The coordinator's `--database` value; undefined = its default SQLite file. */
  url: string | undefined;
  drop(): Promise<void>;
}

export function benchDatabase(kind: StoreKind): BenchDatabase {
  if (kind === 'sqlite') return { kind, url: undefined, drop: async () => undefined };
  const schema = `flotilla_bench_${randomBytes(4).toString('hex')}`;
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  return {
    kind,
    url: url.toString(),
    drop: () => admin((c) => c.query(`drop schema if exists "${schema}" cascade`)).then(() => undefined),
  };
}

export const storeLabel = (kind: StoreKind): string => (kind === 'sqlite' ? 'SQLite' : 'PostgreSQL');
