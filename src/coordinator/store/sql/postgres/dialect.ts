/** PostgreSQL via a pg pool; an optional schema isolates one store from others in a database. */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Expression, SqlBool } from 'kysely';
import type { Logger } from '../../../../shared/logger.js';
import type { SqlFlavor } from '../flavor.js';
import { statementNameOf } from '../query-template.js';
import type { Database } from '../schema.js';
import { isConnectionLost } from '../../unavailable.js';
import { LanePool } from './lane-pool.js';

const CONNECT_TIMEOUT_MS = 10_000;

export const postgresFlavor: SqlFlavor = {
  name: 'postgres',
  rowLocks: true,
  columnTypes: { date: 'timestamptz', bool: 'boolean', binary: 'bytea' },
  toDate: (value) => value,
  toBool: (value) => value,
  transaction: (db, fn) => db.transaction().execute(fn),
  tagParameters: (tags) => [JSON.stringify(tags)],
  jobTagsWithin: ([tags]): Expression<SqlBool> =>
    sql<SqlBool>`(${sql.ref('jobs.tag_list')})::jsonb <@ (${tags})::jsonb`,
  jobResourceGroup: (): Expression<string | null> =>
    sql<string | null>`((${sql.ref('jobs.definition')})::jsonb ->> 'resourceGroup')`,
  jobTimeoutSeconds: (): Expression<number | null> =>
    sql<number | null>`((${sql.ref('jobs.definition')})::jsonb ->> 'timeoutSeconds')::integer`,
  smaller: (value, bound): Expression<number> => sql<number>`least(${value}, ${bound}::integer)`,
};

export interface PostgresOptions {
  connectionString: string;
  /** A plain identifier; created when missing and put first on every connection's search_path. */
  schema: string | undefined;
  /** Connections in the pool at most. */
  poolSize: number;
  logger: Logger | undefined;
  /**
   * False: every statement is sent unnamed (`?prepared_statements=false` in the store URL), for a
   * pooler that does not keep a connection's prepared statements (PgBouncer in transaction or
   * statement pooling without `max_prepared_statements`). Default true.
   */
  preparedStatements?: boolean;
}

/** The store's two handles on one pool (see `lane-pool.ts`). */
export interface PostgresDatabases {
  /** Every statement but the claim; served first when connections are short. */
  db: Kysely<Database>;
  /** The job queue's claim; waits while any other statement waits for a connection. */
  claimDb: Kysely<Database>;
}

export async function openPostgres(options: PostgresOptions): Promise<PostgresDatabases> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    // Fail an unreachable server in seconds rather than after the OS's TCP timeout.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: options.poolSize,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  // A client whose server connection drops (a PostgreSQL restart) emits 'error': on the pool while
  // idle, on the client itself while checked out between two queries (a transaction's JavaScript).
  // Unhandled, either would crash the process. The broken client is dropped on release and the
  // next query gets a new connection (or fails with FLO_ERR_STORE_UNAVAILABLE while the server is down).
  const lost = (err: Error): void => options.logger?.warn({ err: err.message }, 'store connection lost');
  pool.on('error', lost);
  const named: NamedStatements = { on: options.preparedStatements !== false, logger: options.logger };
  const broken = new WeakSet<object>();
  pool.on('connect', (client) => {
    client.on('error', lost);
    markLostConnections(client, broken);
    runNamed(client, named);
  });
  // A statement waits for a connection as long as pg's pool let it wait before (then 503).
  const lanes = new LanePool(pool, options.poolSize, CONNECT_TIMEOUT_MS, (client) => broken.has(client));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: lanes.lane('update') }) });
  // Destroying `db` ends the shared pool; `claimDb` holds nothing else to release.
  const claimDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: lanes.lane('claim') }) });
  if (options.schema !== undefined) {
    try {
      await createSchema(db, options.schema);
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }
  return { db, claimDb };
}

/**
 * Marks `client` broken when one of its statements fails because its connection is gone. A killed
 * backend (`pg_terminate_backend`, a failover) answers the running statement with an error first
 * and closes the socket right after: released in between, the client looked healthy, went back to
 * the idle set, and the next statement (often the caller's retry) failed on it too. Marked, it is
 * destroyed on release (lane-pool.ts) and the next statement gets a new connection.
 */
function markLostConnections(client: pg.PoolClient, broken: WeakSet<object>): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        if (isConnectionLost(err)) broken.add(client);
      });
    }
    return result;
  };
}

/** Whether the pool's connections still run the hot statements named (shared by all of them). */
interface NamedStatements {
  on: boolean;
  logger: Logger | undefined;
}

/**
 * PostgreSQL refuses to run a prepared statement whose tables changed under it (another process
 * migrated the schema: a column added to a `returning *` or `selectAll` statement's table) when
 * the result's columns would change. 0A000 alone is any "feature not supported".
 */
function isStalePlan(err: unknown): boolean {
  return (
    (err as { code?: unknown }).code === '0A000' &&
    err instanceof Error &&
    /cached plan must not change result type/i.test(err.message)
  );
}

/**
 * The server does not hold the statements this connection prepared (26000: it does not exist;
 * 42P05: another client's statement of that name does): a pooler hands the connection's
 * statements to other server connections (PgBouncer in transaction or statement pooling) or
 * runs `DISCARD ALL` / `DEALLOCATE ALL` between them.
 */
function isLostStatement(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '26000' || code === '42P05';
}

/**
 * Runs the store's hot statements (the compiled templates of `query-template.ts`: the claim, the
 * log append, the finish's compare-and-set, the pipeline read, ...) as named prepared statements on
 * this connection: the first call parses and plans it on the server, later calls only bind and
 * execute. Without a name, every call sent the SQL text and PostgreSQL parsed, analysed and
 * planned it again. Any other SQL (rare statements, migrations, `BEGIN`/`COMMIT`) is sent as
 * before. A named statement lives as long as its connection; the pool's connections are the
 * store's own, so no other user of the server sees the names.
 *
 * Two failures of a named statement are the statement's, not the call's:
 * - its plan went stale (`isStalePlan`): it is prepared again under a new name on this connection;
 * - the server lost it (`isLostStatement`): every connection of the pool sends its statements
 *   unnamed from then on, and a warning says so once.
 * Either way a call made outside a transaction is retried once, transparently. Inside one, the
 * failed statement has aborted the transaction: the call fails as any store error would, and the
 * next call (after the rollback) runs under the new name or unnamed.
 */
function runNamed(client: pg.PoolClient, named: NamedStatements): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  /** Statements re-prepared under a new name on this connection, by their first name. */
  const renamed = new Map<string, string>();
  let renames = 0;
  (client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === 'string' && Array.isArray(values) && callback === undefined) {
      const first = statementNameOf(config);
      if (first !== undefined && named.on) {
        // 'I': no transaction open on this connection (kysely sends BEGIN/COMMIT as plain queries
        // on the connection it holds, so no other query of ours runs in between).
        const retriable = client.getTransactionStatus() === 'I';
        const run = (retry: boolean): Promise<unknown> => {
          if (!named.on) return query(config, values);
          const name = renamed.get(first) ?? first;
          return query({ name, text: config, values }).catch((err: unknown) => {
            if (isStalePlan(err)) renamed.set(first, `${first}_${++renames}`);
            else if (isLostStatement(err)) stopNaming(named, err);
            else throw err;
            if (retriable && !retry) return run(true);
            throw err;
          });
        };
        return run(false);
      }
    }
    return query(config, values, callback);
  };
}

function stopNaming(named: NamedStatements, err: unknown): void {
  if (!named.on) return;
  named.on = false;
  named.logger?.warn(
    { code: (err as { code?: unknown }).code, err: err instanceof Error ? err.message : String(err) },
    'store: the PostgreSQL server lost a prepared statement of this connection, so a pooler runs ' +
      'between (PgBouncer in transaction or statement pooling, or DISCARD ALL); every statement ' +
      'is sent unnamed from now on (each parsed and planned on every call). Add ' +
      'prepared_statements=false to the store URL to start that way without this warning, or ' +
      'let the pooler keep prepared statements (PgBouncer 1.21+: max_prepared_statements)',
  );
}

async function createSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await db.schema.createSchema(schema).ifNotExists().execute();
  } catch (err) {
    // Two processes creating the same schema at once: one gets a unique violation; the schema exists.
    if ((err as { code?: unknown }).code !== '23505') throw err;
  }
}

/** The schema unqualified tables are created in (first existing one on the search_path). */
export async function currentSchema(db: Kysely<Database>): Promise<string | undefined> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema ?? undefined;
}
