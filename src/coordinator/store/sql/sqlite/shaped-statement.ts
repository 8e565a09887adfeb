/**
 * A reader statement whose rows are built here from better-sqlite3's raw arrays, as objects that
 * all share one shape. better-sqlite3 builds each row object column by column from C++, and V8
 * turns an object that gets more than a dozen properties that way into a hash table (dictionary
 * mode): a `jobs` row of ~40 columns was a dictionary of a few kilobytes, built at twice the cost
 * of an array, and every later read of its fields was a hash lookup. Here each row is a copy of a
 * per-statement template (one hidden class) filled from the raw array: the same keys and values
 * in the same order, so kysely and the row mappers see exactly what `all()` gave them.
 *
 * The shape is the statement's column names, read once. SQLite prepares a statement again when
 * the schema changed under it, and its columns may change with it; a row whose length differs
 * from the shape's reads the names again, and `CachingSqliteDatabase` drops its statements after
 * any schema statement it runs.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteStatement } from 'kysely';

/** Told after each statement ran: whether it may have written, and whether a transaction is open. */
export type StatementObserver = (wrote: boolean, inTransaction: boolean) => void;

type Row = Record<string, unknown>;

interface Shape {
  names: readonly string[];
  /** An object with every name as a key (null values), in column order, in fast (non-dictionary) mode. */
  template: Row;
}

/** null when the names cannot be keys of a plain object built by assignment (`__proto__`). */
function shapeOf(names: readonly string[]): Shape | null {
  if (names.includes('__proto__')) return null;
  const keys: Row = {};
  for (const name of names) keys[name] = null;
  // JSON.parse gives an object with a shared hidden class; copies of it (spread) keep that class,
  // and assigning its existing keys does not add properties, so it never becomes a dictionary.
  return { names, template: JSON.parse(JSON.stringify(keys)) as Row };
}

export class ShapedStatement implements SqliteStatement {
  readonly reader: boolean;
  readonly #statement: BetterSqlite3.Statement;
  readonly #db: BetterSqlite3.Database;
  readonly #observer: StatementObserver | undefined;
  #shape: Shape | null = null;

  constructor(
    statement: BetterSqlite3.Statement,
    db: BetterSqlite3.Database,
    observer: StatementObserver | undefined,
  ) {
    this.#statement = statement;
    this.#db = db;
    this.#observer = observer;
    this.reader = statement.reader;
    if (this.reader) this.#shape = this.#readShape();
  }

  /** True while an iteration of the statement is not finished (it cannot run again meanwhile). */
  get busy(): boolean {
    return this.#statement.busy;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    const rows = this.#shape
      ? this.#build(this.#statement.all(parameters) as unknown[][])
      : this.#statement.all(parameters);
    this.#after();
    return rows;
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    const result = this.#statement.run(parameters);
    this.#after();
    return result;
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    const rows = this.#statement.iterate(parameters) as IterableIterator<unknown>;
    this.#after();
    return this.#shape ? this.#each(rows as IterableIterator<unknown[]>) : rows;
  }

  /** Raw mode when the columns make a shape; the statement answers objects otherwise. */
  #readShape(): Shape | null {
    const shape = shapeOf(this.#statement.columns().map((column) => column.name));
    this.#statement.raw(shape !== null);
    return shape;
  }

  #build(rows: unknown[][]): Row[] {
    const first = rows[0];
    if (first && first.length !== this.#shape?.names.length) this.#shape = this.#readShape();
    const shape = this.#shape;
    // Without a shape any more (a renamed column is now `__proto__`), the rows were still raw.
    if (shape === null) return rows.map((row) => this.#slowRow(row));
    const { names, template } = shape;
    const out = new Array<Row>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const values = rows[i] as unknown[];
      const row = { ...template };
      for (let c = 0; c < names.length; c++) row[names[c] as string] = values[c];
      out[i] = row;
    }
    return out;
  }

  *#each(rows: IterableIterator<unknown[]>): IterableIterator<Row> {
    for (const row of rows) yield (this.#build([row]) as [Row])[0];
  }

  #slowRow(values: unknown[]): Row {
    const names = this.#statement.columns().map((column) => column.name);
    return Object.fromEntries(names.map((name, c) => [name, values[c]]));
  }

  #after(): void {
    this.#observer?.(!this.#statement.readonly, this.#db.inTransaction);
  }
}
