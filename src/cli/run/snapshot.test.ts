import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createWorkRepo, git } from '../../../harness/git-repo.js';
import { inspectSource, snapshotWorkTree, type Snapshot } from './snapshot.js';

let root: string;
let repo: string;

beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'flotilla-snapshot-')));
  repo = await createWorkRepo(path.join(root, 'repo'), {
    '.gitignore': 'build/\n',
    'a.txt': 'a\n',
    'sub/b.txt': 'b\n',
  });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The snapshot commit's files, `path content` per line. */
async function filesOf(sha: string): Promise<string[]> {
  const names = (await git(repo, 'ls-tree', '-r', '--name-only', sha)).split('\n');
  const out: string[] = [];
  for (const name of names) out.push(`${name} ${await git(repo, 'show', `${sha}:${name}`)}`);
  return out;
}

async function parentsOf(sha: string): Promise<string[]> {
  return (await git(repo, 'rev-list', '--parents', '-n', '1', sha)).split(' ').slice(1);
}

describe('the working tree snapshot', () => {
  it('takes HEAD itself for a clean work tree', async () => {
    const head = await git(repo, 'rev-parse', 'HEAD');
    const snap = await snapshotWorkTree(repo);
    expect(snap).toEqual<Snapshot>({
      sha: head,
      branch: 'main',
      dirty: false,
      objectsDir: path.join(repo, '.git', 'objects'),
      shallow: false,
    });
  });

  it('records modified, deleted and untracked files on top of HEAD, leaving ignored files and the index alone', async () => {
    const head = await git(repo, 'rev-parse', 'HEAD');
    await writeFile(path.join(repo, 'a.txt'), 'changed\n');
    await rm(path.join(repo, 'sub/b.txt'));
    await mkdir(path.join(repo, 'new'), { recursive: true });
    await writeFile(path.join(repo, 'new/c.txt'), 'c\n');
    await mkdir(path.join(repo, 'build'), { recursive: true });
    await writeFile(path.join(repo, 'build/out.bin'), 'ignored\n');
    const indexBefore = await readFile(path.join(repo, '.git', 'index'));
    const statusBefore = await git(repo, 'status', '--porcelain');

    const snap = await snapshotWorkTree(repo);

    expect(snap.dirty).toBe(true);
    expect(snap.branch).toBe('main');
    expect(await parentsOf(snap.sha)).toEqual([head]);
    expect(await filesOf(snap.sha)).toEqual(['.gitignore build/', 'a.txt changed', 'new/c.txt c']);
    expect(await readFile(path.join(repo, '.git', 'index'))).toEqual(indexBefore);
    expect(await git(repo, 'status', '--porcelain')).toBe(statusBefore);
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(head);
  });

  it('counts an untracked file even when the user hides untracked files from status', async () => {
    await git(repo, 'config', 'status.showUntrackedFiles', 'no');
    await writeFile(path.join(repo, 'extra.txt'), 'x\n');
    const snap = await snapshotWorkTree(repo);
    expect(snap.dirty).toBe(true);
    expect(await filesOf(snap.sha)).toContain('extra.txt x');
  });

  it('takes HEAD when a staged change was undone in the work tree', async () => {
    const head = await git(repo, 'rev-parse', 'HEAD');
    await writeFile(path.join(repo, 'a.txt'), 'staged\n');
    await git(repo, 'add', 'a.txt');
    await writeFile(path.join(repo, 'a.txt'), 'a\n');
    const snap = await snapshotWorkTree(repo);
    expect(snap).toMatchObject({ sha: head, dirty: false });
  });

  it('commits the files of a repository without commits, on its unborn branch', async () => {
    const fresh = path.join(root, 'fresh');
    await mkdir(fresh);
    await git(fresh, 'init', '-q', '-b', 'trunk');
    await writeFile(path.join(fresh, 'x.txt'), 'x\n');
    const snap = await snapshotWorkTree(fresh);
    expect(snap).toMatchObject({ branch: 'trunk', dirty: true });
    expect(await git(fresh, 'rev-list', '--parents', '-n', '1', snap.sha)).toBe(snap.sha);
    expect(await git(fresh, 'show', `${snap.sha}:x.txt`)).toBe('x');
  });

  it('names the branch main on a detached HEAD', async () => {
    const head = await git(repo, 'rev-parse', 'HEAD');
    await git(repo, 'checkout', '-q', '--detach');
    expect(await snapshotWorkTree(repo)).toMatchObject({ sha: head, branch: 'main', dirty: false });
  });

  it('says where a directory below the top or outside any work tree stands', async () => {
    expect(await inspectSource(path.join(repo, 'sub'))).toEqual({ kind: 'outside', top: repo });
    const plain = path.join(root, 'plain');
    await mkdir(plain);
    // A directory whose parents are no work tree (the temporary directory's are not).
    expect(await inspectSource(plain)).toEqual({ kind: 'none' });
    await expect(snapshotWorkTree(path.join(repo, 'sub'))).rejects.toThrow(/not the top of a git work tree/);
  });
});
