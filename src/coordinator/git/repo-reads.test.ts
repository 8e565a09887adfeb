import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/logger.js';
import { createGitHost } from './create-git-host.js';
import type { GitHost } from './git-host.js';
import { git, makeTempDir, removeDir } from '../../../test/kits/coordinator/git/git-test-kit.js';
import { MAX_READ_FILE_BYTES } from './repo-reads.js';

let tmp: string;
let host: GitHost;
let first: string;
let second: string;
let tagObject: string;
const REPO = 'team/reader';
const ZERO = '0'.repeat(40);
const MISSING = '1234567'.padEnd(40, 'a');

async function commitFiles(work: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(work, path, '..'), { recursive: true });
    await writeFile(join(work, path), content);
  }
  await git(tmp, work, ['add', '-A']);
  await git(tmp, work, ['commit', '-q', '-m', message]);
  return git(tmp, work, ['rev-parse', 'HEAD']);
}

beforeAll(async () => {
  tmp = await makeTempDir('flotilla-git-reads');
  const root = join(tmp, 'repos');
  host = createGitHost({ root, logger: silentLogger() });
  await host.createRepository(REPO, 'main');
  await host.createRepository('team/empty', 'main');
  const work = join(tmp, 'work');
  await git(tmp, tmp, ['init', '-q', '-b', 'main', work]);
  first = await commitFiles(
    work,
    { '.gitlab-ci.yml': 'job:\n  script: echo hi\n', 'src/a.ts': 'a' },
    'First',
  );
  await git(tmp, work, ['tag', '-a', 'v1.0', '-m', 'release']);
  tagObject = await git(tmp, work, ['rev-parse', 'v1.0']);
  await git(tmp, work, ['rm', '-q', 'src/a.ts']);
  second = await commitFiles(
    work,
    { 'src/b.ts': 'b', 'docs/deep/readme.md': '# hi', 'big.bin': 'x'.repeat(MAX_READ_FILE_BYTES + 1) },
    'Second commit\n\nWith a body.\nTwo lines.',
  );
  await git(tmp, work, ['branch', 'feature/x', first]);
  await git(tmp, work, ['push', '-q', join(root, `${REPO}.git`), 'main', 'feature/x', 'v1.0']);
});

afterAll(() => removeDir(tmp));

const BAD_REQUEST = expect.objectContaining({ code: 'FLO_ERR_BAD_REQUEST' });
const NOT_FOUND = expect.objectContaining({ code: 'FLO_ERR_NOT_FOUND' });

describe('readFile', () => {
  it('reads a file at a commit', async () => {
    expect(await host.readFile(REPO, first, '.gitlab-ci.yml')).toBe('job:\n  script: echo hi\n');
    expect(await host.readFile(REPO, second, './docs/deep/readme.md')).toBe('# hi');
  });

  it('answers null for missing files, directories and commits', async () => {
    expect(await host.readFile(REPO, second, 'src/a.ts')).toBeNull();
    expect(await host.readFile(REPO, second, 'src')).toBeNull();
    expect(await host.readFile(REPO, MISSING, '.gitlab-ci.yml')).toBeNull();
    expect(await host.readFile('team/empty', MISSING, '.gitlab-ci.yml')).toBeNull();
  });

  it('refuses files over 1 MiB', async () => {
    await expect(host.readFile(REPO, second, 'big.bin')).rejects.toEqual(
      expect.objectContaining({ code: 'FLO_ERR_UNPROCESSABLE' }),
    );
  });

  it('rejects bad arguments', async () => {
    await expect(host.readFile(REPO, second, '../outside')).rejects.toEqual(BAD_REQUEST);
    await expect(host.readFile(REPO, 'main', 'x')).rejects.toEqual(BAD_REQUEST);
    await expect(host.readFile('team/nope', second, 'x')).rejects.toEqual(NOT_FOUND);
  });
});

describe('listFiles', () => {
  it('lists every file of the tree', async () => {
    expect(await host.listFiles(REPO, first)).toEqual(['.gitlab-ci.yml', 'src/a.ts']);
    expect(await host.listFiles(REPO, second)).toEqual([
      '.gitlab-ci.yml',
      'big.bin',
      'docs/deep/readme.md',
      'src/b.ts',
    ]);
  });

  it('throws FLO_ERR_NOT_FOUND for a missing commit, also in an empty repository', async () => {
    await expect(host.listFiles(REPO, MISSING)).rejects.toEqual(NOT_FOUND);
    await expect(host.listFiles('team/empty', MISSING)).rejects.toEqual(NOT_FOUND);
  });
});

describe('resolveRef and refType', () => {
  it('resolves branches, tags, full ref names and shas to commits', async () => {
    expect(await host.resolveRef(REPO, 'main')).toBe(second);
    expect(await host.resolveRef(REPO, 'feature/x')).toBe(first);
    expect(await host.resolveRef(REPO, 'refs/heads/main')).toBe(second);
    expect(tagObject).not.toBe(first);
    expect(await host.resolveRef(REPO, 'v1.0')).toBe(first);
    expect(await host.resolveRef(REPO, first)).toBe(first);
    expect(await host.resolveRef(REPO, second.slice(0, 10))).toBe(second);
  });

  it('answers null for unknown or expression-like refs', async () => {
    for (const ref of ['nope', 'main~1', 'main^', '-h', 'HEAD@{0}', MISSING, 'main:src']) {
      expect(await host.resolveRef(REPO, ref)).toBeNull();
    }
    expect(await host.resolveRef('team/empty', 'main')).toBeNull();
  });

  it('tells branches from tags', async () => {
    expect(await host.refType(REPO, 'main')).toBe('branch');
    expect(await host.refType(REPO, 'feature/x')).toBe('branch');
    expect(await host.refType(REPO, 'v1.0')).toBe('tag');
    expect(await host.refType(REPO, 'refs/tags/v1.0')).toBe('tag');
    expect(await host.refType(REPO, 'refs/heads/v1.0')).toBeNull();
    expect(await host.refType(REPO, first)).toBeNull();
    expect(await host.refType('team/empty', 'main')).toBeNull();
  });
});

describe('changedFiles', () => {
  it('lists added, modified and deleted paths between two commits', async () => {
    expect(await host.changedFiles(REPO, first, second)).toEqual([
      'big.bin',
      'docs/deep/readme.md',
      'src/a.ts',
      'src/b.ts',
    ]);
    expect(await host.changedFiles(REPO, second, second)).toEqual([]);
  });

  it('answers undefined for zeros or unknown commits', async () => {
    expect(await host.changedFiles(REPO, ZERO, second)).toBeUndefined();
    expect(await host.changedFiles(REPO, first, ZERO)).toBeUndefined();
    expect(await host.changedFiles(REPO, MISSING, second)).toBeUndefined();
    expect(await host.changedFiles('team/empty', MISSING, MISSING)).toBeUndefined();
    await expect(host.changedFiles(REPO, 'main', second)).rejects.toEqual(BAD_REQUEST);
  });
});

describe('commitInfo', () => {
  it('describes a commit', async () => {
    const info = await host.commitInfo(REPO, second);
    expect(info).toEqual({
      sha: second,
      title: 'Second commit',
      message: 'Second commit\n\nWith a body.\nTwo lines.',
      authorName: 'Test Author',
      authorEmail: 'author@example.test',
      committedAt: expect.any(Date),
    });
    expect(Math.abs((info?.committedAt.getTime() ?? 0) - Date.now())).toBeLessThan(600_000);
  });

  it('answers null for a missing commit', async () => {
    expect(await host.commitInfo(REPO, MISSING)).toBeNull();
    expect(await host.commitInfo('team/empty', MISSING)).toBeNull();
  });
});

describe('listBranches', () => {
  it('lists branches with their commits', async () => {
    expect(await host.listBranches(REPO)).toEqual([
      { name: 'feature/x', sha: first },
      { name: 'main', sha: second },
    ]);
    expect(await host.listBranches('team/empty')).toEqual([]);
  });
});
