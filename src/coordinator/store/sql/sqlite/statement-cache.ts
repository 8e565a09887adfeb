/**
 * A bounded LRU of prepared statements in front of a better-sqlite3 database, for kysely's
 * SqliteDialect. Kysely's SQLite driver calls `prepare(sql)` on every query; preparing (parsing
 * and planning the SQL) was about an eighth of the coordinator's CPU. A better-sqlite3 statement
 * can be run again with new parameters, so one statement per SQL text is kept and reused.
 *
 * Kysely decides per statement whether to read rows (`reader`: `all`/`iterate`) or `run` it; that
 * property belongs to the statement, so a cached one answers exactly as a fresh one would. A
 * statement still iterating (`busy`, a stream not yet drained) is never handed out again: a fresh
 * one is prepared for that call and not cached. Reader statements build their rows in one shape
 * (`shaped-statement.ts`); a schema statement (create, alter, drop) drops every cached statement,
 * since the columns of those it changed may be others now.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

import { ShapedStatement, type StatementObserver } from './shaped-statement.js';

export type { StatementObserver } from './shaped-statement.js';

/** Distinct SQL texts kept; the store issues a few hundred shapes at most. */
export const DEFAULT_STATEMENT_CACHE_SIZE = 500;

export interface StatementCacheStats {
  hits: number;
  misses: number;
  size: number;
}

const SCHEMA_STATEMENT = /^\s*(?:create|alter|drop)\s/i;

export class CachingSqliteDatabase implements SqliteDatabase {
  readonly #db: BetterSqlite3.Database;
  readonly #max: number;
  readonly #observer: StatementObserver | undefined;
  /** Insertion order is recency order: the first key is the least recently used. */
  readonly #statements = new Map<string, ShapedStatement>();
  #hits = 0;
  #misses = 0;

  constructor(
    db: BetterSqlite3.Database,
    maxStatements = DEFAULT_STATEMENT_CACHE_SIZE,
    observer?: StatementObserver,
  ) {
    if (!Number.isInteger(maxStatements) || maxStatements < 1) {
      throw new RangeError(`maxStatements must be a positive integer, got ${String(maxStatements)}`);
    }
    this.#db = db;
    this.#max = maxStatements;
    this.#observer = observer;
  }

  prepare(sql: string): ShapedStatement {
    const cached = this.#statements.get(sql);
    if (cached !== undefined && !cached.busy) {
      this.#hits++;
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      return cached;
    }
    this.#misses++;
    const statement = new ShapedStatement(this.#db.prepare(sql), this.#db, this.#observer);
    if (SCHEMA_STATEMENT.test(sql)) this.#statements.clear();
    else if (cached === undefined) this.#remember(sql, statement);
    return statement;
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }

  stats(): StatementCacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#statements.size };
  }

  #remember(sql: string, statement: ShapedStatement): void {
    this.#statements.set(sql, statement);
    if (this.#statements.size <= this.#max) return;
    const oldest = this.#statements.keys().next();
    if (oldest.done !== true) this.#statements.delete(oldest.value);
  }
}
