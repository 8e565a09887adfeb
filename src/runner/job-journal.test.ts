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
    expect(await journal.list()).toEqual([ENTRY]);
    await journal.remove(7);
    expect(await journal.list()).toEqual([]);
  });

  it('drops files it cannot read (a write cut by a crash)', async () => {
    const journal = createJobJournal(await mkdtemp(join(tmpdir(), 'flo-journal-')));
    await journal.record(ENTRY);
    await writeFile(join(journal.dir, '8.json'), '{"id": 8, "tok');
    expect(await journal.list()).toEqual([ENTRY]);
    expect(await readdir(journal.dir)).toEqual(['7.json']);
  });
});
