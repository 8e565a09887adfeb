import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { removeTmpDir, sweepRemovedTmpDirs } from './tmp-dir.js';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'flo-tmp-dir-'));
  roots.push(root);
  const tmpDir = join(root, 'project.tmp');
  await mkdir(tmpDir);
  await writeFile(join(tmpDir, 'SECRET_FILE'), 'secret');
  return tmpDir;
}

describe('shell scratch folders', () => {
  it('renames the folder away at once', async () => {
    const tmpDir = await scratch();
    await removeTmpDir(tmpDir);
    expect(existsSync(tmpDir)).toBe(false);
  });

  it('deletes what an ended process left behind, and keeps what a running one is deleting', async () => {
    const tmpDir = await scratch();
    // No process has pid 2^22 + 1 (above Linux's pid_max), so its leftover counts as ended.
    const ended = `${tmpDir}.removed-4194305-1-abc`;
    const running = `${tmpDir}.removed-${process.pid}-1-abc`;
    const other = `${tmpDir}x.removed-4194305-1-abc`;
    for (const dir of [ended, running, other]) await mkdir(dir);
    await writeFile(join(ended, 'SECRET_FILE'), 'secret');
    await sweepRemovedTmpDirs(tmpDir);
    const left = await readdir(join(tmpDir, '..'));
    expect(left.sort()).toEqual(
      [
        'project.tmp',
        'project.tmp.removed-' + `${process.pid}-1-abc`,
        'project.tmpx.removed-4194305-1-abc',
      ].sort(),
    );
  });
});
