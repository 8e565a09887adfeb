/**
 * What differs between the two dialects, in one small interface, so every query module is written
 * once. Everything else (the queries themselves, in `tables/`) is plain kysely and shared. Each
 * dialect's folder (`sqlite/`, `postgres/`) has its flavor and connection in `dialect.ts`, next to
 * what only that dialect has (SQLite: group commit, statement cache, trace files; PostgreSQL: the
 * LISTEN/NOTIFY queue bus).
 */
import type { Expression, Kysely, SqlBool } from 'kysely';
import type { AppendBatch } from './append-batch.js';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface SqlFlavor {
  readonly name: DialectName;
  /** Whether `SELECT ... FOR UPDATE [SKIP LOCKED]` exists (PostgreSQL); SQLite locks the whole file instead. */
  readonly rowLocks: boolean;
  /** Column types for migrations. */
  readonly columnTypes: {
    date: 'text' | 'timestamptz';
    bool: 'integer' | 'boolean';
    binary: 'blob' | 'bytea';
  };
  toDate(value: Date): Date | string;
  toBool(value: boolean): boolean | number;
  /**
   * Runs `fn` in a write transaction: it commits when `fn` resolves and rolls back when it throws.
   * SQLite takes the write lock up front (`BEGIN IMMEDIATE`) so read-then-write transactions of
   * several processes wait on `busy_timeout` instead of failing on a lock upgrade.
   */
  transaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * The bound values that stand for a runner's tags (non-empty) in `jobTagsWithin`: the tags
   * themselves (SQLite), or one JSON array (PostgreSQL).
   */
  tagParameters(tags: string[]): unknown[];
  /** True when the JSON array `jobs.tag_list` holds only tags from those `tagParameters` gave. */
  jobTagsWithin(parameters: readonly unknown[]): Expression<SqlBool>;
  /** The `resourceGroup` of the JSON text `jobs.definition`, or null when it has none. */
  jobResourceGroup(): Expression<string | null>;
  /** The `timeoutSeconds` of the JSON text `jobs.definition` (an integer), or null. */
  jobTimeoutSeconds(): Expression<number | null>;
  /** The smaller of an integer expression and a number. */
  smaller(value: Expression<number>, bound: number): Expression<number>;
}

/** What every query module gets. */
export interface SqlContext {
  readonly db: Kysely<Database>;
  /**
   * The job queue's claim statement runs here: PostgreSQL's lane that yields connections to every
   * other statement (`postgres/lane-pool.ts`). Undefined: `db` (SQLite has one connection).
   */
  readonly claimDb?: Kysely<Database> | undefined;
  /** PostgreSQL: log appends of many jobs share a statement (`append-batch.ts`). */
  readonly appends?: AppendBatch | undefined;
  readonly flavor: SqlFlavor;
  now(): Date;
}

export function toDateOrNull(flavor: SqlFlavor, value: Date | null): Date | string | null {
  return value === null ? null : flavor.toDate(value);
}
