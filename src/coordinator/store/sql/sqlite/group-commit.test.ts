import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';

import type { WalGroupSync } from './group-commit.js';
import { openSqlite, type OpenedSqlite } from './dialect.js';

describe('WalGroupSync', () => {
  const dirs: string[] = [];
  const opened: OpenedSqlite[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) {
      await o.db.destroy();
      await o.durability?.close();
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function open(): OpenedSqlite & { durability: WalGroupSync } {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-group-commit-'));
    dirs.push(dir);
    const o = openSqlite(join(dir, 'store.db'));
    opened.push(o);
    if (!o.durability) throw new Error('a file database in WAL mode must get group commit');
    return { ...o, durability: o.durability };
  }

  it('counts a write as committed only once its transaction committed', async () => {
    const { db, durability } = open();
    await sql`create table t (v text)`.execute(db);
    await durability.durable();
    const before = durability.syncs;
    await db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      await sql`insert into t (v) values ('a')`.execute(conn);
      // Not committed yet: nothing to make durable.
      await durability.durable();
      expect(durability.syncs).toBe(before);
      await sql`commit`.execute(conn);
    });
    await durability.durable();
    expect(durability.syncs).toBe(before + 1);
  });

  it('resolves at once when nothing was committed since the last sync', async () => {
    const { db, durability } = open();
    await sql`create table t (v text)`.execute(db);
    await durability.durable();
    const before = durability.syncs;
    await sql`select 1`.execute(db);
    await durability.durable();
    expect(durability.syncs).toBe(before);
  });

  it('covers concurrent commits with shared syncs, each waiter after its own commit', async () => {
    const { db, durability } = open();
    await sql`create table t (v integer)`.execute(db);
    await durability.durable();
    const before = durability.syncs;
    const writes = Array.from({ length: 50 }, async (_, i) => {
      await sql`insert into t (v) values (${i})`.execute(db);
      await durability.durable();
    });
    await Promise.all(writes);
    const syncs = durability.syncs - before;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThan(50);
  });

  it('keeps the database in WAL mode without per-commit syncs', async () => {
    const { db } = open();
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
    const level = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
    expect(mode.rows[0]?.journal_mode).toBe('wal');
    // 1 = NORMAL: commits append to the WAL; durable() syncs it.
    expect(level.rows[0]?.synchronous).toBe(1);
  });
});
