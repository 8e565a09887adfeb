import { describe, expect, it } from 'vitest';

import { benchDatabase, parseDatabaseOption, PG_URL } from './database.js';

describe('bench --database', () => {
  it('accepts sqlite, postgres and both, and names the choices otherwise', () => {
    expect(parseDatabaseOption('both')).toBe('both');
    expect(parseDatabaseOption(undefined)).toBeUndefined();
    expect(() => parseDatabaseOption('mysql')).toThrow(
      '--database must be one of sqlite, postgres, both, not "mysql"',
    );
  });

  it('gives each PostgreSQL run a schema of its own on the configured server, SQLite the default file', () => {
    const a = benchDatabase('postgres');
    const b = benchDatabase('postgres');
    expect(a.url).toMatch(/[?&]schema=flotilla_bench_[0-9a-f]{8}$/);
    expect(a.url).not.toBe(b.url);
    expect(new URL(a.url!).host).toBe(new URL(PG_URL).host);
    expect(benchDatabase('sqlite').url).toBeUndefined();
  });
});
