/** PostgreSQL via a pg pool; an optional schema isolates one store from others in a database. */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Expression, SqlBool } from 'kysely';
import type { Logger } from '../../../../shared/logger.js';
import type { SqlFlavor } from '../flavor.js';
import { statementNameOf } from '../query-template.js';
import type { Database } from '../schema.js';

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
}

export async function openPostgres(options: PostgresOptions): Promise<Kysely<Database>> {
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
  pool.on('connect', (client) => {
    client.on('error', lost);
    runNamed(client);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  if (options.schema !== undefined) {
    try {
      await createSchema(db, options.schema);
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }
  return db;
}

/**
 * Runs the store's hot statements (the compiled templates of `query-template.ts`: the claim, the
 * log append, the finish's compare-and-set, the pipeline read, ...) as named prepared statements on
 * this connection: the first call parses and plans it on the server, later calls only bind and
 * execute. Without a name, every call sent the SQL text and PostgreSQL parsed, analysed and
 * planned it again. Any other SQL (rare statements, migrations, `BEGIN`/`COMMIT`) is sent as
 * before. A named statement lives as long as its connection; the pool's connections are the
 * store's own, so no other user of the server sees the names.
 */
function runNamed(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  /** Statements re-prepared under a new name on this connection (see below), by name. */
  const renamed = new Map<string, string>();
  (client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === 'string' && Array.isArray(values) && callback === undefined) {
      const named = statementNameOf(config);
      if (named !== undefined) {
        const name = renamed.get(named) ?? named;
        return query({ name, text: config, values }).catch((err: unknown) => {
          // The tables changed under the prepared statement (another process migrated the schema):
          // PostgreSQL refuses a plan whose result type changed. This call fails as any store error
          // would; the next one prepares the statement again under a new name.
          if ((err as { code?: unknown }).code === '0A000') renamed.set(named, `${name}_`);
          throw err;
        });
      }
    }
    return query(config, values, callback);
  };
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
