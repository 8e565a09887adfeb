import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { gitIn } from '../../../test/kits/executors/git-in.js';

import type { JobPayload } from '../../api/runner-api.js';
import type { StageContext } from '../executor.js';
import {
  executorJob,
  jobPayload,
  mainBranchGitInfo,
  memoryOutput,
} from '../../../test/kits/executors/job-fixture.js';
import { refsForJob, withOriginUrl } from './shared-sources.js';
import { createShellExecutorFactory, projectDirFor } from './shell-executor.js';

/** A bare repository with three commits on main, a tag (unless not asked for) and a pipeline ref. */
async function origin(withTag = true): Promise<{ root: string; bare: string; sha: string }> {
  const root = await mkdtemp(join(tmpdir(), 'flo-shared-'));
  gitIn(root, 'init', '-q', '--bare', '-b', 'main', 'repo.git');
  gitIn(root, 'init', '-q', '-b', 'main', 'work');
  const work = join(root, 'work');
  for (const n of [1, 2, 3]) {
    await writeFile(join(work, 'a.txt'), `v${n}`);
    gitIn(work, 'add', '.');
    gitIn(work, 'commit', '-q', '-m', `c${n}`);
    if (n === 1 && withTag) gitIn(work, 'tag', 'v1');
  }
  const sha = gitIn(work, 'rev-parse', 'HEAD');
  const bare = join(root, 'repo.git');
  gitIn(work, 'push', '-q', bare, 'main', ...(withTag ? ['v1'] : []), `${sha}:refs/pipelines/9`);
  return { root, bare, sha };
}

function gitInfo(url: string, sha: string, depth: number): JobPayload['git_info'] {
  const refspecs =
    depth > 0
      ? ['+refs/pipelines/9:refs/pipelines/9', '+refs/heads/main:refs/remotes/origin/main']
      : [
          '+refs/pipelines/9:refs/pipelines/9',
          '+refs/heads/*:refs/remotes/origin/*',
          '+refs/tags/*:refs/tags/*',
        ];
  return mainBranchGitInfo(url, sha, depth, refspecs);
}

/** Runs get_sources for one job; returns its project directory and log. */
async function getSources(
  buildsDir: string,
  factory: ReturnType<typeof createShellExecutorFactory>,
  info: JobPayload['git_info'],
  concurrentId: number,
): Promise<{ dir: string; code: number; log: string }> {
  const job = { ...executorJob(buildsDir, jobPayload({ git_info: info })), concurrentId };
  const executor = factory.create(job);
  const output = memoryOutput();
  const ctx: StageContext = { output, signal: new AbortController().signal, jobStatus: 'success' };
  await executor.prepare(ctx);
  const { exitCode } = await executor.runStage('get_sources', ctx);
  await executor.cleanup();
  return { dir: projectDirFor(job), code: exitCode, log: output.text() };
}

/** What a job can see of its repository. */
function view(dir: string) {
  return {
    head: gitIn(dir, 'rev-parse', 'HEAD'),
    detached: gitIn(dir, 'status', '--porcelain=v2', '--branch').split('\n')[1],
    refs: gitIn(dir, 'for-each-ref', '--format=%(objectname) %(refname)'),
    log: gitIn(dir, 'log', '--format=%H %s'),
    shallow: gitIn(dir, 'rev-parse', '--is-shallow-repository'),
    origin: gitIn(dir, 'remote', 'get-url', 'origin'),
    status: gitIn(dir, 'status', '--porcelain'),
  };
}

describe('shared sources (shell executor)', () => {
  for (const depth of [0, 2]) {
    it(`leaves the job the same repository as its own fetch would (depth ${depth})`, async () => {
      const { bare, sha } = await origin();
      const url = `file://${bare}`;
      const plain = await getSources(
        await mkdtemp(join(tmpdir(), 'flo-plain-')),
        createShellExecutorFactory(),
        gitInfo(url, sha, depth),
        0,
      );
      const shared = await getSources(
        await mkdtemp(join(tmpdir(), 'flo-shared-builds-')),
        createShellExecutorFactory({ sharedSources: true }),
        gitInfo(url, sha, depth),
        0,
      );
      expect(plain.code).toBe(0);
      expect(shared.code).toBe(0);
      expect(view(shared.dir)).toEqual(view(plain.dir));
      expect(await readFile(join(shared.dir, 'a.txt'), 'utf8')).toBe('v3');
      expect(gitIn(shared.dir, 'fsck', '--no-progress')).toBe('');
      expect(shared.log).toContain('Created fresh repository.');
      expect(shared.log).toContain(`Checking out ${sha.slice(0, 8)} as detached HEAD (ref is main)...`);
    });
  }

  it('fetches from the local repository a repo_url maps to, leaving the same repository', async () => {
    const { bare, sha } = await origin();
    const plain = await getSources(
      await mkdtemp(join(tmpdir(), 'flo-plain-')),
      createShellExecutorFactory(),
      gitInfo(`file://${bare}`, sha, 2),
      0,
    );
    // Nothing listens there: only the local repository can serve the fetch.
    const url = 'http://gitlab-ci-token:secret@127.0.0.1:9/root/repo.git';
    const asked: string[] = [];
    const factory = createShellExecutorFactory({
      sharedSources: true,
      localRepositoryFor: (repoUrl) => {
        asked.push(repoUrl);
        return bare;
      },
    });
    const shared = await getSources(
      await mkdtemp(join(tmpdir(), 'flo-shared-builds-')),
      factory,
      gitInfo(url, sha, 2),
      0,
    );
    expect(shared.code).toBe(0);
    expect(asked).toEqual([url]);
    expect({ ...view(shared.dir), origin: '' }).toEqual({ ...view(plain.dir), origin: '' });
    expect(view(shared.dir).origin).toBe(url);
    expect(gitIn(shared.dir, 'fsck', '--no-progress')).toBe('');
  });

  // Three commits, no tag: with depth 0 or 4 a fetch copies the repository as it is, so its
  // objects are borrowed where they are; depth 2 and 3 draw a shallow boundary (git marks the
  // root at depth 3 shallow too), so the store fetches.
  for (const [depth, borrowed] of [
    [0, true],
    [4, true],
    [3, false],
    [2, false],
  ] as const) {
    it(`leaves the same repository when a local repository's objects ${borrowed ? 'are borrowed' : 'are fetched'} (depth ${depth})`, async () => {
      const { bare, sha } = await origin(false);
      const plain = await getSources(
        await mkdtemp(join(tmpdir(), 'flo-plain-')),
        createShellExecutorFactory(),
        gitInfo(`file://${bare}`, sha, depth),
        0,
      );
      const url = 'http://gitlab-ci-token:secret@127.0.0.1:9/root/repo.git';
      const builds = await mkdtemp(join(tmpdir(), 'flo-shared-builds-'));
      const factory = createShellExecutorFactory({ sharedSources: true, localRepositoryFor: () => bare });
      const shared = await getSources(builds, factory, gitInfo(url, sha, depth), 0);
      expect(shared.code).toBe(0);
      expect({ ...view(shared.dir), origin: '' }).toEqual({ ...view(plain.dir), origin: '' });
      expect(gitIn(shared.dir, 'fsck', '--no-progress')).toBe('');
      const alternates = await readFile(join(shared.dir, '.git', 'objects', 'info', 'alternates'), 'utf8');
      expect(alternates.trim() === join(bare, 'objects')).toBe(borrowed);
    });
  }

  it('fetches a commit once for every job and slot, and cleans each work tree', async () => {
    const { root, bare, sha } = await origin();
    const builds = await mkdtemp(join(tmpdir(), 'flo-shared-builds-'));
    const factory = createShellExecutorFactory({ sharedSources: true });
    const first = await getSources(builds, factory, gitInfo(`file://${bare}`, sha, 2), 0);
    expect(first.code).toBe(0);
    await writeFile(join(first.dir, 'junk.txt'), 'x');
    await writeFile(join(first.dir, 'a.txt'), 'changed');
    // The origin is gone: later jobs of the same commit can only use the store.
    await rename(bare, join(root, 'moved.git'));
    const again = await getSources(builds, factory, gitInfo(`file://${bare}`, sha, 2), 0);
    const otherSlot = await getSources(builds, factory, gitInfo(`file://${bare}`, sha, 2), 1);
    expect([again.code, otherSlot.code]).toEqual([0, 0]);
    expect(again.dir).toBe(first.dir);
    expect(existsSync(join(again.dir, 'junk.txt'))).toBe(false);
    expect(await readFile(join(again.dir, 'a.txt'), 'utf8')).toBe('v3');
    expect(gitIn(otherSlot.dir, 'rev-parse', 'HEAD')).toBe(sha);
    // A commit the store has not fetched goes to the origin, and its failure is the job's.
    const missing = await getSources(builds, factory, gitInfo(`file://${bare}`, 'f'.repeat(40), 2), 0);
    expect(missing.code).not.toBe(0);
  });
});

describe('shared sources: a slot folder taken as the last checkout left it', () => {
  it('runs no git for the next job of the commit, removing what git clean would, with its output', async () => {
    const { bare, sha } = await origin();
    const builds = await mkdtemp(join(tmpdir(), 'flo-shared-builds-'));
    const factory = createShellExecutorFactory({ sharedSources: true });
    const first = await getSources(builds, factory, gitInfo(`file://${bare}`, sha, 2), 0);
    expect(first.code).toBe(0);
    const before = view(first.dir);
    await writeFile(join(first.dir, 'junk.txt'), 'x');
    // no git on the PATH: the next job of the commit in this slot must not need one
    const path = process.env['PATH'];
    process.env['PATH'] = await mkdtemp(join(tmpdir(), 'flo-no-git-'));
    let again: Awaited<ReturnType<typeof getSources>>;
    try {
      again = await getSources(builds, factory, gitInfo(`file://${bare}`, sha, 2), 0);
    } finally {
      process.env['PATH'] = path;
    }
    expect(again.code).toBe(0);
    expect(again.log).toContain('Removing junk.txt\n');
    expect(existsSync(join(again.dir, 'junk.txt'))).toBe(false);
    expect(view(again.dir)).toEqual(before);
  });
});

describe('refsForJob', () => {
  const store = new Map([
    ['refs/pipelines/9', 'a'.repeat(40)],
    ['refs/pipelines/8', 'b'.repeat(40)],
    ['refs/remotes/origin/main', 'a'.repeat(40)],
    ['refs/remotes/origin/dev', 'c'.repeat(40)],
    ['refs/tags/v1', 'd'.repeat(40)],
  ]);

  it('maps explicit and wildcard destinations, follows tags and prunes under wildcards', () => {
    const { refs, prune } = refsForJob(
      ['+refs/pipelines/9:refs/pipelines/9', '+refs/heads/*:refs/remotes/origin/*'],
      store,
    );
    expect([...refs.keys()].sort()).toEqual([
      'refs/pipelines/9',
      'refs/remotes/origin/dev',
      'refs/remotes/origin/main',
      'refs/tags/v1',
    ]);
    expect(prune).toEqual(['refs/remotes/origin/']);
  });
});

describe('withOriginUrl', () => {
  it('replaces the url of remote "origin" only', () => {
    const config =
      '[core]\n\tbare = false\n[remote "up"]\n\turl = x\n[remote "origin"]\n\turl = old\n\tfetch = f\n';
    expect(withOriginUrl(config, 'http://t:tok@h/p.git')).toBe(
      '[core]\n\tbare = false\n[remote "up"]\n\turl = x\n[remote "origin"]\n\turl = http://t:tok@h/p.git\n\tfetch = f\n',
    );
  });

  it('adds the remote when there is none, quoting what git would read as a comment', () => {
    expect(withOriginUrl('[core]\n\tbare = false\n', 'file:///a#b')).toBe(
      '[core]\n\tbare = false\n[remote "origin"]\n\turl = "file:///a#b"\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n',
    );
  });
});
