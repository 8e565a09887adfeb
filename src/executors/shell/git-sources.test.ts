/** get_sources against a local repository: the fresh-repository path and the reused-folder path. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import { getSources, prepareEmptyRepository } from './git-sources.js';

let root: string;
let origin: string;
let sha: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }).trim();
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'flotilla-git-sources-'));
  // Characters that a config value must quote or escape.
  origin = join(root, 'we"ird;#\\repo');
  await mkdir(origin);
  git(origin, '-c', 'init.defaultBranch=main', 'init', '-q');
  await writeFile(join(origin, 'a.txt'), 'one\n');
  git(origin, 'add', 'a.txt');
  git(origin, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'one');
  sha = git(origin, 'rev-parse', 'HEAD');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function gitInfo(): JobPayload['git_info'] {
  return {
    repo_url: origin,
    ref: 'main',
    sha,
    before_sha: '0'.repeat(40),
    ref_type: 'branch',
    refspecs: ['+refs/heads/*:refs/remotes/origin/*'],
    depth: 0,
  } as JobPayload['git_info'];
}

async function run(
  projectDir: string,
  variables: JobVariable[] = [],
  more: { disposable?: boolean; emptyRepository?: Promise<string | null> } = {},
): Promise<string> {
  let log = '';
  const code = await getSources({
    projectDir,
    gitInfo: gitInfo(),
    variables,
    output: { write: (chunk) => void (log += Buffer.from(chunk).toString()) },
    signal: new AbortController().signal,
    ...more,
  });
  expect(code, log).toBe(0);
  return log;
}

describe('getSources', () => {
  it('makes a fresh repository whose origin is the exact repo URL, checked out at the sha', async () => {
    const dir = join(root, 'build');
    const log = await run(dir, [], { disposable: true });
    expect(log).toContain('Created fresh repository.');
    expect(git(dir, 'remote', 'get-url', 'origin')).toBe(origin);
    expect(git(dir, 'config', '--get-all', 'remote.origin.fetch')).toBe(
      '+refs/heads/*:refs/remotes/origin/*',
    );
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(sha);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('cleans untracked files out of a folder that was not empty before the repository', async () => {
    const dir = join(root, 'build');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'stray.txt'), 'left over\n');
    await run(dir);
    expect(existsSync(join(dir, 'stray.txt'))).toBe(false);
    expect(existsSync(join(dir, 'a.txt'))).toBe(true);
  });

  it('reuses a repository: points origin at the job URL again and cleans', async () => {
    const dir = join(root, 'build');
    await run(dir);
    git(dir, 'remote', 'set-url', 'origin', '/elsewhere');
    await writeFile(join(dir, 'stray.txt'), 'left over\n');
    const log = await run(dir);
    expect(log).not.toContain('Created fresh repository.');
    expect(git(dir, 'remote', 'get-url', 'origin')).toBe(origin);
    expect(existsSync(join(dir, 'stray.txt'))).toBe(false);
  });

  it('copies a prepared empty repository instead of git init, to the same repository', async () => {
    const inited = join(root, 'inited');
    const copied = join(root, 'copied');
    await run(inited);
    const log = await run(copied, [], { emptyRepository: prepareEmptyRepository(join(root, 'empty')) });
    expect(log).toContain('Created fresh repository.');
    for (const file of ['config', 'HEAD']) {
      expect(await readFile(join(copied, '.git', file), 'utf8')).toBe(
        await readFile(join(inited, '.git', file), 'utf8'),
      );
    }
    expect(git(copied, 'rev-parse', 'HEAD')).toBe(sha);
    expect(git(copied, 'status', '--porcelain')).toBe('');
    expect(existsSync(join(root, 'empty', '.git', 'objects', 'pack'))).toBe(true);
    expect(git(join(root, 'empty'), 'rev-parse', '--is-inside-work-tree')).toBe('true');
  });

  it('falls back to git init when the empty repository could not be made', async () => {
    const dir = join(root, 'build');
    await run(dir, [], { emptyRepository: Promise.resolve(null) });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(sha);
  });
});
