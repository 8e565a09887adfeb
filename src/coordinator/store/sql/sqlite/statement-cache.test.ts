import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CachingSqliteDatabase } from './statement-cache.js';

describe('CachingSqliteDatabase', () => {
  let db: CachingSqliteDatabase | undefined;
  afterEach(() => db?.close());

  function open(max?: number): CachingSqliteDatabase {
    const raw = new BetterSqlite3(':memory:');
    raw.exec('create table t (id integer primary key, v text)');
    db = new CachingSqliteDatabase(raw, max);
    return db;
  }

  it('reuses one statement per SQL text, with new parameters each run', () => {
    const cache = open();
    const insert = 'insert into t (v) values (?)';
    expect(cache.prepare(insert).reader).toBe(false);
    cache.prepare(insert).run(['a']);
    cache.prepare(insert).run(['b']);
    const select = cache.prepare('select v from t where id = ?');
    expect(select.reader).toBe(true);
    expect(select.all([2])).toEqual([{ v: 'b' }]);
    expect(cache.prepare('select v from t where id = ?')).toBe(select);
    expect(cache.stats()).toEqual({ hits: 3, misses: 2, size: 2 });
  });

  it('evicts the least recently used statement past its bound', () => {
    const cache = open(2);
    const a = cache.prepare('select 1');
    cache.prepare('select 2');
    cache.prepare('select 1');
    cache.prepare('select 3');
    expect(cache.stats().size).toBe(2);
    expect(cache.prepare('select 1')).toBe(a);
    expect(cache.stats().misses).toBe(3);
    cache.prepare('select 2');
    expect(cache.stats().misses).toBe(4);
  });

  it('hands out a fresh statement while the cached one is still iterating', () => {
    const cache = open();
    cache.prepare('insert into t (v) values (?)').run(['a']);
    cache.prepare('insert into t (v) values (?)').run(['b']);
    const sql = 'select v from t order by id';
    const first = cache.prepare(sql);
    const iterator = first.iterate([]);
    expect(iterator.next().value).toEqual({ v: 'a' });
    const second = cache.prepare(sql);
    expect(second).not.toBe(first);
    expect(second.all([])).toEqual([{ v: 'a' }, { v: 'b' }]);
    iterator.return?.();
    expect(cache.prepare(sql)).toBe(first);
  });

  it('says which bound is wrong', () => {
    expect(() => new CachingSqliteDatabase(new BetterSqlite3(':memory:'), 0)).toThrow(
      'maxStatements must be a positive integer, got 0',
    );
  });
});
