import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { GIT_TEST_ENV, gitIn } from '../../../test/kits/executors/git-in.js';

import { parseIndex, removeUntracked, UnchangedWorkTrees } from './unchanged-work-tree.js';

const clean = { cleanArgs: ['-ffdx'], env: { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } };

/** A work tree checked out and cleaned at its commit as get_sources leaves it, and recorded. */
async function checkedOut(): Promise<{ dir: string; sha: string; trees: UnchangedWorkTrees }> {
  const dir = await mkdtemp(join(tmpdir(), 'flo-unchanged-'));
  gitIn(dir, 'init', '-q', '-b', 'main');
  await writeFile(join(dir, 'a.txt'), 'v1');
  await mkdir(join(dir, 'sub', 'deep'), { recursive: true });
  await writeFile(join(dir, 'sub', 'deep', 'run.sh'), 'echo hi\n', { mode: 0o755 });
  await symlink('a.txt', join(dir, 'link'));
  await writeFile(join(dir, '.gitignore'), 'ignored/\n');
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-q', '-m', 'c1');
  const sha = gitIn(dir, 'rev-parse', 'HEAD');
  gitIn(dir, 'checkout', '-f', '-q', sha);
  gitIn(dir, 'clean', '-ffdx');
  const trees = new UnchangedWorkTrees();
  await trees.record(dir, sha);
  await trees.settled();
  return { dir, sha, trees };
}

describe('UnchangedWorkTrees', () => {
  it('parses the index git writes', async () => {
    const { dir } = await checkedOut();
    const { readFileSync } = await import('node:fs');
    const entries = parseIndex(readFileSync(join(dir, '.git', 'index')));
    expect(entries?.map((e) => [e.path, e.mode.toString(8)])).toEqual([
      ['.gitignore', '100644'],
      ['a.txt', '100644'],
      ['link', '120000'],
      ['sub/deep/run.sh', '100755'],
    ]);
  });

  it('leaves an index with an extension other than TREE, UNTR, EOIE or IEOT to git', async () => {
    const { dir } = await checkedOut();
    const { readFileSync } = await import('node:fs');
    const index = readFileSync(join(dir, '.git', 'index'));
    const body = index.subarray(0, index.length - 20);
    const extension = (signature: string, size = 4) => {
      const header = Buffer.alloc(8);
      header.write(signature, 0, 'latin1');
      header.writeUInt32BE(size, 4);
      return Buffer.concat([header, Buffer.alloc(size)]);
    };
    const withExtension = (ext: Buffer) => Buffer.concat([body, ext, Buffer.alloc(20)]);
    expect(parseIndex(withExtension(extension('UNTR')))?.length).toBe(4);
    for (const signature of ['link', 'sdir', 'REUC', 'FSMN', 'ZZZZ'])
      expect(parseIndex(withExtension(extension(signature)))).toBeNull();
    // an extension running past the checksum, or bytes that are no extension
    expect(parseIndex(withExtension(extension('TREE', 4).subarray(0, 10)))).toBeNull();
    expect(parseIndex(Buffer.concat([body, Buffer.alloc(3), Buffer.alloc(20)]))).toBeNull();
  });

  it('takes a work tree left as the checkout left it, even with new timestamps', async () => {
    const { dir, sha, trees } = await checkedOut();
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(true);
    await utimes(join(dir, 'a.txt'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(true);
    // what git would see the same way: nothing for checkout or clean to do
    expect(gitIn(dir, 'status', '--porcelain', '--ignored')).toBe('');
  });

  const changes: [string, (dir: string, sha: string) => Promise<unknown>][] = [
    ['a tracked file with other content of the same size', (dir) => writeFile(join(dir, 'a.txt'), 'v2')],
    ['a tracked file removed', (dir) => rm(join(dir, 'sub', 'deep', 'run.sh'))],
    ['an executable bit', (dir) => chmod(join(dir, 'a.txt'), 0o755)],
    [
      'a symlink pointing elsewhere',
      async (dir) => {
        await rm(join(dir, 'link'));
        await symlink('b.txt', join(dir, 'link'));
      },
    ],
    ['an untracked file', (dir) => writeFile(join(dir, 'sub', 'new.txt'), 'x')],
    ['an ignored folder', (dir) => mkdir(join(dir, 'ignored'))],
    ['an empty untracked folder', (dir) => mkdir(join(dir, 'sub', 'empty'))],
    [
      'a staged change',
      async (dir) => {
        await writeFile(join(dir, 'a.txt'), 'v2');
        gitIn(dir, 'add', 'a.txt');
        await writeFile(join(dir, 'a.txt'), 'v1');
      },
    ],
    ['HEAD on a branch', (dir) => Promise.resolve(gitIn(dir, 'checkout', '-q', 'main'))],
    [
      'a post-checkout hook',
      (dir) => writeFile(join(dir, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\n', { mode: 0o755 }),
    ],
    [
      'a hooks path in the repository',
      (dir) => Promise.resolve(gitIn(dir, 'config', 'core.hooksPath', '/tmp')),
    ],
    ['an index lock', (dir) => writeFile(join(dir, '.git', 'index.lock'), '')],
  ];
  for (const [what, change] of changes) {
    it(`runs git after ${what}`, async () => {
      const { dir, sha, trees } = await checkedOut();
      await change(dir, sha);
      expect(trees.unchanged(dir, { sha, ...clean })).toBe(false);
    });
  }

  it('runs git for another commit, other clean flags, git variables, or a folder never recorded', async () => {
    const { dir, sha, trees } = await checkedOut();
    expect(trees.unchanged(dir, { ...clean, sha: 'f'.repeat(40) })).toBe(false);
    expect(trees.unchanged(dir, { ...clean, sha, cleanArgs: ['-ffdx', '-e', 'keep'] })).toBe(false);
    expect(trees.unchanged(dir, { ...clean, sha, env: { ...clean.env, GIT_DIR: '/x' } })).toBe(false);
    expect(trees.unchanged(dir, { ...clean, sha, env: { ...clean.env, GIT_SSL_CAINFO: '/x' } })).toBe(true);
    expect(new UnchangedWorkTrees().unchanged(dir, { sha, ...clean })).toBe(false);
    trees.forget(dir);
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(false);
  });

  it('removes untracked and ignored paths as git clean -ffdx does, with its output', async () => {
    const { dir, sha, trees } = await checkedOut();
    await mkdir(join(dir, 'ignored', 'deep'), { recursive: true });
    await mkdir(join(dir, 'sub', 'deep', 'new'), { recursive: true });
    await mkdir(join(dir, 'empty'));
    for (const f of [
      'ignored/deep/x',
      'sub/deep/new/y',
      'sub/z.txt',
      'a-b',
      'a.zzz',
      'Z',
      '.hidden',
      'sp ace',
    ])
      await writeFile(join(dir, f), f);
    const copy = await mkdtemp(join(tmpdir(), 'flo-unchanged-copy-'));
    await cp(dir, copy, { recursive: true });
    const paths = trees.untrackedOnly(dir, { sha, ...clean });
    expect(paths).not.toBeNull();
    const lines: string[] = [];
    expect(await removeUntracked(dir, paths ?? [], { write: (t) => void lines.push(t) })).toBe(true);
    const gitSays = execFileSync('git', ['clean', '-ffdx'], {
      cwd: copy,
      env: GIT_TEST_ENV,
      encoding: 'utf8',
    });
    expect(lines.join('')).toBe(gitSays);
    const list = (root: string) =>
      execFileSync('find', ['.', '-path', './.git', '-prune', '-o', '-print'], {
        cwd: root,
        encoding: 'utf8',
      })
        .split('\n')
        .sort();
    expect(list(dir)).toEqual(list(copy));
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(true);
  });

  it('leaves names git would quote to git', async () => {
    const { dir, sha, trees } = await checkedOut();
    await writeFile(join(dir, 'caf\u00e9'), 'x');
    expect(trees.untrackedOnly(dir, { sha, ...clean })).toBeNull();
  });

  it('looks at the names in git config, not the values (a project path may say sparse)', async () => {
    const { dir, sha, trees } = await checkedOut();
    gitIn(dir, 'remote', 'add', 'origin', 'https://x/group/sparse-include-app.git');
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(true);
    gitIn(dir, 'config', 'core.sparseCheckout', 'false');
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(false);
  });

  it('runs git with an include in the repository config', async () => {
    const { dir, sha, trees } = await checkedOut();
    gitIn(dir, 'config', 'include.path', '/dev/null');
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(false);
  });

  /** What `git checkout -f -q SHA` and `git clean -ffdx` leave in a copy of `dir`, as a listing. */
  async function gitLeaves(dir: string, sha: string): Promise<string[]> {
    const copy = await mkdtemp(join(tmpdir(), 'flo-unchanged-git-'));
    await cp(dir, copy, { recursive: true, verbatimSymlinks: true });
    gitIn(copy, 'checkout', '-f', '-q', sha);
    gitIn(copy, 'clean', '-ffdx');
    return listing(copy);
  }
  function listing(root: string): string[] {
    return execFileSync('find', ['.', '-path', './.git', '-prune', '-o', '-printf', '%y %p\n'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .sort();
  }

  it('runs git when a tracked folder was replaced by a symlink to the same content', async () => {
    const { dir, sha, trees } = await checkedOut();
    const elsewhere = await mkdtemp(join(tmpdir(), 'flo-unchanged-elsewhere-'));
    await cp(join(dir, 'sub'), join(elsewhere, 'sub'), { recursive: true });
    await rm(join(dir, 'sub'), { recursive: true });
    await symlink(join(elsewhere, 'sub'), join(dir, 'sub'));
    const before = listing(dir);
    // git restores the folder (and leaves the copy elsewhere alone)
    const gitSays = await gitLeaves(dir, sha);
    expect(gitSays).toContain('d ./sub');
    expect(gitSays).toContain('f ./sub/deep/run.sh');
    expect(trees.untrackedOnly(dir, { sha, ...clean })).toBeNull();
    expect(listing(dir)).toEqual(before);
  });

  it('runs git when a tracked folder deeper down was replaced by a symlink', async () => {
    const { dir, sha, trees } = await checkedOut();
    const elsewhere = await mkdtemp(join(tmpdir(), 'flo-unchanged-elsewhere-'));
    await cp(join(dir, 'sub', 'deep'), join(elsewhere, 'deep'), { recursive: true });
    await rm(join(dir, 'sub', 'deep'), { recursive: true });
    await symlink(join(elsewhere, 'deep'), join(dir, 'sub', 'deep'));
    expect(await gitLeaves(dir, sha)).toContain('d ./sub/deep');
    expect(trees.untrackedOnly(dir, { sha, ...clean })).toBeNull();
  });

  it('runs git for a split index (its entries live in another file)', async () => {
    const { dir, sha, trees } = await checkedOut();
    gitIn(dir, '-c', 'core.splitIndex=true', 'checkout', '-f', '-q', sha);
    gitIn(dir, 'update-index', '--split-index');
    gitIn(dir, 'clean', '-ffdx');
    await trees.record(dir, sha);
    const { readFileSync } = await import('node:fs');
    expect(parseIndex(readFileSync(join(dir, '.git', 'index')))).toBeNull();
    expect(trees.untrackedOnly(dir, { sha, ...clean })).toBeNull();
    expect(await gitLeaves(dir, sha)).toContain('f ./a.txt');
  });

  it('takes an index with a cache tree, an untracked cache and an end-of-entries table', async () => {
    const { dir, sha, trees } = await checkedOut();
    gitIn(dir, 'config', 'core.untrackedCache', 'true');
    gitIn(dir, 'config', 'index.threads', '2');
    gitIn(dir, 'config', 'index.recordOffsetTable', 'true');
    gitIn(dir, 'config', 'index.recordEndOfIndexEntries', 'true');
    gitIn(dir, 'read-tree', sha);
    gitIn(dir, 'checkout', '-f', '-q', sha);
    gitIn(dir, 'update-index', '--untracked-cache');
    gitIn(dir, 'status', '--porcelain');
    gitIn(dir, 'clean', '-ffdx');
    await trees.record(dir, sha);
    const { readFileSync } = await import('node:fs');
    const index = readFileSync(join(dir, '.git', 'index'));
    expect(index.includes('TREE')).toBe(true);
    expect(index.includes('UNTR')).toBe(true);
    expect(index.includes('EOIE')).toBe(true);
    expect(parseIndex(index)?.map((e) => e.path)).toEqual(['.gitignore', 'a.txt', 'link', 'sub/deep/run.sh']);
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(true);
  });

  it.each(['core.splitIndex', 'splitIndex.maxPercentChange', 'core.ignoreCase', 'core.precomposeUnicode'])(
    'runs git with %s in the repository config',
    async (key) => {
      const { dir, sha, trees } = await checkedOut();
      gitIn(dir, 'config', key, key.startsWith('splitIndex') ? '20' : 'true');
      expect(trees.unchanged(dir, { sha, ...clean })).toBe(false);
    },
  );

  it('asks git about its system configuration only from the second recorded checkout on', async () => {
    const { dir, sha } = await checkedOut();
    const trees = new UnchangedWorkTrees();
    // One recorded checkout (a one-job run): no question asked, so git must run.
    await trees.record(dir, sha);
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(false);
    await trees.record(dir, sha);
    expect(trees.unchanged(dir, { sha, ...clean })).toBe(true);
  });

  /** A `git` on PATH that reads `system` as its system configuration (as a git built elsewhere would). */
  async function gitWithSystemConfig(system: string | null): Promise<string> {
    const bin = await mkdtemp(join(tmpdir(), 'flo-unchanged-bin-'));
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    let file = join(bin, 'missing-gitconfig');
    if (system !== null) {
      file = join(bin, 'gitconfig');
      await writeFile(file, system);
    }
    await writeFile(join(bin, 'git'), `#!/bin/sh\nGIT_CONFIG_SYSTEM='${file}' exec '${real}' "$@"\n`, {
      mode: 0o755,
    });
    return `${bin}:${process.env['PATH'] ?? ''}`;
  }

  it('asks the git that made the checkout for its system configuration, wherever that file is', async () => {
    const { dir, sha } = await checkedOut();
    const judged = async (system: string | null) => {
      const trees = new UnchangedWorkTrees();
      await trees.record(dir, sha, { PATH: await gitWithSystemConfig(system) });
      await trees.settled();
      return trees.unchanged(dir, { sha, ...clean });
    };
    expect(await judged('[core]\n\thooksPath = /somewhere\n')).toBe(false);
    expect(await judged('[include]\n\tpath = /somewhere\n')).toBe(false);
    expect(await judged('[user]\n\tname = sparse\n')).toBe(true);
    expect(await judged(null)).toBe(true);
  });
});
