import { existsSync } from 'node:fs';
import { basename } from 'node:path';

import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { openSqlite, sqliteAddonFile } from './dialect.js';

describe('openSqlite', () => {
  it("names better-sqlite3's compiled addon instead of letting it search", () => {
    const file = sqliteAddonFile();
    expect(file).not.toBeNull();
    expect(basename(file ?? '')).toBe('better_sqlite3.node');
    expect(existsSync(file ?? '')).toBe(true);
    expect(sqliteAddonFile()).toBe(file);
  });

  it('opens a working database with that addon', async () => {
    const { db } = openSqlite(':memory:');
    const { rows } = await sql<{ v: string }>`select sqlite_version() as v`.execute(db);
    expect(rows[0]?.v).toMatch(/^3\./);
    await db.destroy();
  });
});
