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

function shapeOf(names: readonly string[]): Shape {
  // Parsed from JSON text, not assigned: JSON.parse makes every key an own data property (even
  // `__proto__`, which an assignment would take as the prototype), keeps the first position and
  // the last value of a repeated name (as better-sqlite3 does), and gives an object with a shared
  // hidden class; its copies (spread) keep that class, and assigning their existing keys adds no
  // property, so a row never becomes a dictionary.
  const text = `{${names.map((name) => `${JSON.stringify(name)}:null`).join(',')}}`;
  return { names, template: JSON.parse(text) as Row };
}

export class ShapedStatement implements SqliteStatement {
  readonly reader: boolean;
  readonly #statement: BetterSqlite3.Statement;
  readonly #db: BetterSqlite3.Database;
  readonly #observer: StatementObserver | undefined;
  /** The row shape of a reader statement (which runs in raw mode); null for a writer. */
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
    if (this.reader) {
      this.#shape = this.#readShape();
      statement.raw(true);
    }
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

  #readShape(): Shape {
    return shapeOf(this.#statement.columns().map((column) => column.name));
  }

  #build(rows: unknown[][]): Row[] {
    const first = rows[0];
    if (first && first.length !== this.#shape?.names.length) this.#shape = this.#readShape();
    const { names, template } = this.#shape as Shape;
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

  #after(): void {
    this.#observer?.(!this.#statement.readonly, this.#db.inTransaction);
  }
}
