import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { isFlotillaError } from '../shared/errors.js';
import { LOCK_FILE, lockDataDir } from './data-dir-lock.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flotilla-lock-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Processes 100 and 200 run, started at ticks 1100 and 1200; every other id is gone. */
const deps = (pid: number) => ({
  pid,
  alive: (p: number) => p === 100 || p === 200,
  startTime: (p: number) => (p === 100 || p === 200 ? String(p + 1000) : null),
});

describe('lockDataDir', () => {
  it('holds the directory with its process id, refuses a second holder, and frees it on release', async () => {
    const first = await lockDataDir(dir, deps(100));
    expect(await readFile(path.join(dir, LOCK_FILE), 'utf8')).toBe('100 1100\n');
    const refused = await lockDataDir(dir, deps(200)).catch((err: unknown) => err);
    expect(isFlotillaError(refused, 'FLO_ERR_DATA_DIR_IN_USE')).toBe(true);
    expect(String(refused)).toContain('process 100');
    expect(String(refused)).toContain(path.join(dir, LOCK_FILE));
    await first.release();
    const second = await lockDataDir(dir, deps(200));
    expect(await readFile(path.join(dir, LOCK_FILE), 'utf8')).toBe('200 1200\n');
    await second.release();
  });

  it('takes over a file left by a process that is gone, or an unreadable one', async () => {
    await writeFile(path.join(dir, LOCK_FILE), '4242\n');
    const lock = await lockDataDir(dir, deps(100));
    expect(await readFile(path.join(dir, LOCK_FILE), 'utf8')).toBe('100 1100\n');
    await lock.release();
    await writeFile(path.join(dir, LOCK_FILE), 'garbage');
    await (await lockDataDir(dir, deps(100))).release();
  });

  it('takes over a file whose pid now names another live process, started later (a restarted container)', async () => {
    await writeFile(path.join(dir, LOCK_FILE), '200 777\n');
    const lock = await lockDataDir(dir, deps(100));
    expect(await readFile(path.join(dir, LOCK_FILE), 'utf8')).toBe('100 1100\n');
    await lock.release();
    // A file without a start time (or where none can be read) trusts the pid alone.
    await writeFile(path.join(dir, LOCK_FILE), '200\n');
    expect(isFlotillaError(await lockDataDir(dir, deps(100)).catch((e: unknown) => e))).toBe(true);
  });

  it('does not remove a file another process wrote after this one lost it', async () => {
    const lock = await lockDataDir(dir, deps(100));
    await writeFile(path.join(dir, LOCK_FILE), '200\n');
    await lock.release();
    expect(await readFile(path.join(dir, LOCK_FILE), 'utf8')).toBe('200\n');
  });
});
