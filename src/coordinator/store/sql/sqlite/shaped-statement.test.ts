import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CachingSqliteDatabase } from './statement-cache.js';
import { ShapedStatement } from './shaped-statement.js';

const WIDE = Array.from({ length: 40 }, (_, i) => `c${i}`);

describe('ShapedStatement', () => {
  let raw: BetterSqlite3.Database | undefined;
  afterEach(() => raw?.close());

  function open(): BetterSqlite3.Database {
    raw = new BetterSqlite3(':memory:');
    raw.exec(`create table t (id integer primary key, ${WIDE.map((c) => `${c} text`).join(', ')})`);
    const insert = raw.prepare(
      `insert into t (${WIDE.join(', ')}) values (${WIDE.map(() => '?').join(', ')})`,
    );
    for (let r = 0; r < 3; r++) insert.run(WIDE.map((_, i) => (i % 4 === 0 ? null : `r${r}c${i}`)));
    return raw;
  }

  it('answers the same rows as better-sqlite3, key order included', () => {
    const db = open();
    const sql = 'select * from t where id >= ? order by id';
    const expected = db.prepare(sql).all([2]) as Record<string, unknown>[];
    const rows = new ShapedStatement(db.prepare(sql), db, undefined).all([2]) as Record<string, unknown>[];
    expect(rows).toEqual(expected);
    expect(rows.map((row) => Object.keys(row))).toEqual(expected.map((row) => Object.keys(row)));
    expect(rows[0]?.['c1']).toBe('r1c1');
    expect(rows[0]?.['c0']).toBeNull();
  });

  it('keeps the last of two columns of one name, as better-sqlite3 does', () => {
    const db = open();
    const sql = "select c1 as v, c2 as v, 'x' as w from t where id = 1";
    const expected = db.prepare(sql).all([]);
    expect(new ShapedStatement(db.prepare(sql), db, undefined).all([])).toEqual(expected);
    expect(expected).toEqual([{ v: 'r0c2', w: 'x' }]);
  });

  it('iterates rows of the same shape', () => {
    const db = open();
    const sql = 'select id, c1 from t order by id';
    expect([...new ShapedStatement(db.prepare(sql), db, undefined).iterate([])]).toEqual([
      { id: 1, c1: 'r0c1' },
      { id: 2, c1: 'r1c1' },
      { id: 3, c1: 'r2c1' },
    ]);
  });

  it('answers a column named __proto__ as an own key (better-sqlite3 itself drops its value)', () => {
    const db = open();
    const sql = 'select c1 as "__proto__", c2 from t where id = 1';
    const [row] = new ShapedStatement(db.prepare(sql), db, undefined).all([]) as object[];
    expect(Object.keys(row ?? {})).toEqual(['__proto__', 'c2']);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('r0c1');
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(db.prepare(sql).all([])).toEqual([{ c2: 'r0c2' }]);
  });

  it('reads the columns again when the schema changed under the statement', () => {
    const db = open();
    const statement = new ShapedStatement(db.prepare('select * from t where id = 1'), db, undefined);
    expect(Object.keys(statement.all([])[0] as object)).toHaveLength(41);
    db.exec("alter table t add column extra text default 'e'");
    const [row] = statement.all([]) as Record<string, unknown>[];
    expect(row?.['extra']).toBe('e');
    expect(Object.keys(row ?? {})).toHaveLength(42);
  });

  it('tells its observer whether each statement may have written', () => {
    const db = open();
    const seen: [boolean, boolean][] = [];
    const observe = (wrote: boolean, inTransaction: boolean) => seen.push([wrote, inTransaction]);
    new ShapedStatement(db.prepare('select id from t'), db, observe).all([]);
    new ShapedStatement(db.prepare("update t set c1 = 'u' where id = 1"), db, observe).run([]);
    expect(seen).toEqual([
      [false, false],
      [true, false],
    ]);
  });
});

describe('CachingSqliteDatabase and schema statements', () => {
  it('drops its statements when a schema statement goes through it', () => {
    const db = new BetterSqlite3(':memory:');
    const cache = new CachingSqliteDatabase(db);
    try {
      cache.prepare('create table u (a text, b text)').run([]);
      cache.prepare("insert into u values ('1', '2')").run([]);
      const select = cache.prepare('select * from u');
      expect(select.all([])).toEqual([{ a: '1', b: '2' }]);
      cache.prepare('alter table u rename column b to c').run([]);
      const again = cache.prepare('select * from u');
      expect(again).not.toBe(select);
      expect(again.all([])).toEqual([{ a: '1', c: '2' }]);
    } finally {
      cache.close();
    }
  });
});
