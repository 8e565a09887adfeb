import { mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { createJobJournal } from './job-journal.js';

const ENTRY = {
  id: 7,
  token: 'glcbt-x',
  url: 'http://127.0.0.1:1',
  systemId: 's_0123456789ab',
  startedAt: 'now',
};

describe('job journal', () => {
  it('records a job in a 0600 file, lists it, and forgets it', async () => {
    const journal = createJobJournal(await mkdtemp(join(tmpdir(), 'flo-journal-')));
    expect(await journal.list()).toEqual([]);
    await journal.record(ENTRY);
    expect((await stat(join(journal.dir, '7.json'))).mode & 0o777).toBe(0o600);
    expect(await journal.list()).toEqual([
      { ...ENTRY, pid: process.pid, pidStart: expect.stringMatching(/^\d+$/) },
    ]);
    await journal.remove(7);
    expect(await journal.list()).toEqual([]);
  });

  it('drops files it cannot read (a write cut by a crash)', async () => {
    const journal = createJobJournal(await mkdtemp(join(tmpdir(), 'flo-journal-')));
    await journal.record(ENTRY);
    await writeFile(join(journal.dir, '8.json'), '{"id": 8, "tok');
    expect(await journal.list()).toEqual([
      { ...ENTRY, pid: process.pid, pidStart: expect.stringMatching(/^\d+$/) },
    ]);
    expect(await readdir(journal.dir)).toEqual(['7.json']);
  });

  it("takes only a dead manager's jobs for orphans, not those of one still running beside it", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flo-journal-'));
    const alive = new Set([100, 200]);
    const isAlive = (pid: number): boolean => alive.has(pid);
    await createJobJournal(dir, { pid: 100, isAlive }).record(ENTRY);
    await createJobJournal(dir, { pid: 300, isAlive }).record({ ...ENTRY, id: 8 });
    const restarted = createJobJournal(dir, { pid: 200, isAlive });
    expect((await restarted.listOrphans()).map((e) => e.id)).toEqual([8]);
    alive.delete(100);
    expect((await restarted.listOrphans()).map((e) => e.id).sort()).toEqual([7, 8]);
  });

  it('takes the jobs of a pid that now names another process (a restarted container) for orphans', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flo-journal-'));
    const isAlive = (): boolean => true;
    await createJobJournal(dir, { pid: 1, isAlive, startTime: () => '500' }).record(ENTRY);
    await createJobJournal(dir, { pid: 7, isAlive, startTime: () => '600' }).record({ ...ENTRY, id: 8 });
    // Pid 7 runs again, but a process that started later: job 8's manager is gone. Job 7's still runs.
    const restarted = createJobJournal(dir, { pid: 2, isAlive, startTime: (p) => (p === 7 ? '900' : '500') });
    expect((await restarted.listOrphans()).map((e) => e.id)).toEqual([8]);
  });
});
