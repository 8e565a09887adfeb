/**
 * Opens a Store from a URL and brings its schema up to date. The only module that picks a dialect.
 *
 * Accepted URLs:
 * - `sqlite:///abs/path.db`, `sqlite:relative/path.db`, a bare file path, `:memory:` → SQLite;
 * - `postgres://…` or `postgresql://…` → PostgreSQL, with an optional `?schema=NAME` that puts the
 *   tables in that schema (created when missing), `?pool_size=N` (connections per coordinator,
 *   default 20) and `?prepared_statements=false` (hot statements sent unnamed, for a pooler that
 *   does not keep prepared statements; default true); other query parameters go to the driver.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Clock } from '../../shared/clock.js';
import { FlotillaError, errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { SqlFlavor } from './sql/flavor.js';
import { migrateToLatest } from './sql/migrations.js';
import type { Database } from './sql/schema.js';
import { SqlStore, type Durability } from './sql/sql-store.js';
import { TraceFiles } from './sql/sqlite/trace-files.js';
import type { QueueBus } from '../scheduler/queue/runner-queue.js';
import type { Store } from './store.js';
import { timedStore } from './timed-store.js';
import { isStoreUnavailable } from './unavailable.js';

export interface CreateStoreOptions {
  logger?: Logger;
  /** Source of the timestamps the store sets itself (createdAt, updatedAt); default: system time. */
  clock?: Pick<Clock, 'now'>;
  /** When set, every store call is timed on it (`flotilla_coordinator_db_query_duration_seconds`). */
  registry?: Registry;
  /**
   * SQLite only: a database no one reads after this process (`flotilla run`), opened without
   * fsyncs (see OpenSqliteOptions). Never for a coordinator's real store.
   */
  throwaway?: boolean;
  /**
   * SQLite file stores only: keep job logs from this size on in files under this directory
   * instead of in the database (see `sql/trace-files.ts`); PostgreSQL and `:memory:` ignore it
   * (several coordinators share a PostgreSQL database, and the logs must stay visible to all).
   */
  traceFiles?: { dir: string; threshold?: number };
}

export type StoreLocation =
  | { dialect: 'sqlite'; filename: string }
  | {
      dialect: 'postgres';
      connectionString: string;
      schema: string | undefined;
      poolSize: number;
      /** False: no named prepared statements (see PostgresOptions.preparedStatements). */
      preparedStatements: boolean;
    };

/**
 * Connections per coordinator. pg's default of 10 was the queue at 100 and 1,000 runner clients
 * (most of a claim's time was spent waiting for a connection); the server's own limit (100 by
 * default) is shared by every coordinator of the database.
 */
export const DEFAULT_POOL_SIZE = 20;
const MAX_POOL_SIZE = 1000;

const MEMORY = ':memory:';
const ACCEPTED =
  'use sqlite:///absolute/path.db, sqlite:relative/path.db, a file path, :memory:, ' +
  'or postgres://user@host:5432/database (postgresql:// too, optional ?schema=name&pool_size=N&prepared_statements=false)';
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function invalid(url: string, why: string): FlotillaError {
  return new FlotillaError(
    'FLO_ERR_CONFIG_INVALID',
    `bad store URL ${JSON.stringify(redactUrl(url))}: ${why}; ${ACCEPTED}`,
    {
      details: { accepted: ACCEPTED },
    },
  );
}

/** Hides a password in a connection URL, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*:)[^/@]*@/i, '$1[MASKED]@');
}

function parseSqlite(url: string): StoreLocation {
  let rest = url.slice('sqlite:'.length);
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    if (rest !== MEMORY && !rest.startsWith('/'))
      throw invalid(url, 'sqlite:// must be followed by an absolute path');
  }
  if (rest === '') throw invalid(url, 'the SQLite file path is empty');
  return { dialect: 'sqlite', filename: rest };
}

function parsePostgres(url: string): StoreLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw invalid(url, errorMessage(err));
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw invalid(url, 'schema must be a plain identifier (letters, digits, underscore)');
  }
  parsed.searchParams.delete('schema');
  const pool = parsed.searchParams.get('pool_size');
  const poolSize = pool === null ? DEFAULT_POOL_SIZE : Number(pool);
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > MAX_POOL_SIZE) {
    throw invalid(url, `pool_size must be a whole number from 1 to ${MAX_POOL_SIZE}`);
  }
  parsed.searchParams.delete('pool_size');
  const prepared = parsed.searchParams.get('prepared_statements');
  if (prepared !== null && prepared !== 'true' && prepared !== 'false') {
    throw invalid(url, 'prepared_statements must be true or false');
  }
  parsed.searchParams.delete('prepared_statements');
  return {
    dialect: 'postgres',
    connectionString: parsed.toString(),
    schema,
    poolSize,
    preparedStatements: prepared !== 'false',
  };
}

export function parseStoreUrl(url: string): StoreLocation {
  const trimmed = url.trim();
  if (trimmed === '') throw invalid(url, 'it is empty');
  if (trimmed === MEMORY) return { dialect: 'sqlite', filename: MEMORY };
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return parsePostgres(trimmed);
  if (/^sqlite:/i.test(trimmed)) return parseSqlite(trimmed);
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(trimmed);
  if (scheme !== null) throw invalid(url, `unsupported scheme ${scheme[1] ?? ''}:`);
  return { dialect: 'sqlite', filename: trimmed };
}

interface Opened {
  db: Kysely<Database>;
  /** PostgreSQL: the claim's lane of the same pool (see SqlContext.claimDb). */
  claimDb?: Kysely<Database> | undefined;
  flavor: SqlFlavor;
  /** PostgreSQL: where the tables live, told to the Migrator (see MigrateOptions.schema). */
  schema: string | undefined;
  /** SQLite with a WAL: the group commit that `Store.durable` waits for. */
  durability?: Durability | undefined;
  traceFiles?: TraceFiles | undefined;
  /** SQLite: creates a new database's schema in one step (see MigrateOptions.createFresh). */
  createFresh?: ((migrations: readonly string[]) => boolean) | undefined;
}

function traceFilesFor(location: StoreLocation, options: CreateStoreOptions): TraceFiles | undefined {
  const wanted = options.traceFiles;
  if (wanted === undefined || location.dialect !== 'sqlite' || location.filename === MEMORY) return undefined;
  return new TraceFiles({ ...wanted, sync: options.throwaway !== true });
}

/** Each dialect's module (and its driver: better-sqlite3 or pg) is loaded only when used. */
async function open(location: StoreLocation, options: CreateStoreOptions): Promise<Opened> {
  const { logger } = options;
  if (location.dialect === 'sqlite') {
    const [{ openSqlite, sqliteFlavor }, { createFreshSchema }] = await Promise.all([
      import('./sql/sqlite/dialect.js'),
      import('./sql/sqlite/fresh-schema.js'),
    ]);
    if (location.filename !== MEMORY) mkdirSync(dirname(location.filename), { recursive: true });
    const { db, durability, raw } = openSqlite(location.filename, {
      throwaway: options.throwaway === true,
    });
    return {
      db,
      flavor: sqliteFlavor,
      schema: undefined,
      durability,
      traceFiles: traceFilesFor(location, options),
      // The Migrator stamps its rows with the system time, not the store's clock.
      createFresh: (migrations) => createFreshSchema(raw, migrations, new Date()),
    };
  }
  const { currentSchema, openPostgres, postgresFlavor } = await import('./sql/postgres/dialect.js');
  const { db, claimDb } = await openPostgres({
    connectionString: location.connectionString,
    schema: location.schema,
    poolSize: location.poolSize,
    preparedStatements: location.preparedStatements,
    logger,
  });
  try {
    return { db, claimDb, flavor: postgresFlavor, schema: location.schema ?? (await currentSchema(db)) };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

/** Opens the store at `url` and runs pending migrations. Throws FLO_ERR_CONFIG_INVALID for a bad URL. */
export async function createStore(url: string, options: CreateStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  let db: Kysely<Database> | undefined;
  try {
    const opened = await open(location, options);
    db = opened.db;
    const { flavor, schema, durability, traceFiles, createFresh, claimDb } = opened;
    await migrateToLatest(db, flavor, { schema, logger: options.logger, createFresh });
    const clock = options.clock;
    const store = new SqlStore(db, flavor, clock === undefined ? () => new Date() : () => clock.now(), {
      durability,
      traceFiles,
      claimDb,
      connections: location.dialect === 'postgres' ? location.poolSize : undefined,
    });
    return options.registry ? timedStore(store, options.registry) : store;
  } catch (err) {
    await db?.destroy().catch(() => undefined);
    const unreachable = isStoreUnavailable(err);
    throw new FlotillaError(
      unreachable ? 'FLO_ERR_STORE_UNAVAILABLE' : 'FLO_ERR_INTERNAL',
      `cannot open the store at ${redactUrl(url)}: ${errorMessage(err)}` +
        (unreachable ? ' (is the database server running, and reachable at that address?)' : ''),
      {
        cause: err,
        details: { dialect: location.dialect },
      },
    );
  }
}

/** A fresh, migrated in-memory SQLite store (unit tests, and the API docs' route table, which needs a store to wire the routes). */
export function createMemoryStore(options: CreateStoreOptions = {}): Promise<Store> {
  return createStore(MEMORY, options);
}

/**
 * The runner queue's bus for a store URL: PostgreSQL LISTEN/NOTIFY, so the coordinators sharing a
 * database wake each other's long polls; undefined for SQLite (one process owns the file).
 */
export async function createQueueBus(
  url: string,
  logger: Logger,
): Promise<(QueueBus & { close(): Promise<void> }) | undefined> {
  const location = parseStoreUrl(url);
  if (location.dialect !== 'postgres') return undefined;
  const { createPostgresQueueBus } = await import('./sql/postgres/queue-bus.js');
  const bus = createPostgresQueueBus({
    connectionString: location.connectionString,
    schema: location.schema,
    logger,
  });
  await bus.ready;
  return bus;
}
