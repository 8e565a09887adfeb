import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import { sourcesScript, type SourcesScriptInput } from './sources-script.js';

// The script runs here with this machine's `sh` and `git`, as it runs in the sources image.
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

let root = '';
let url = '';
const shas: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flo-sources-'));
  git(root, 'init', '-q', '--bare', '-b', 'main', 'repo.git');
  git(root, 'init', '-q', '-b', 'main', 'work');
  const work = join(root, 'work');
  for (const text of ['one', 'two']) {
    await writeFile(join(work, 'a.txt'), text);
    git(work, 'add', '.');
    git(work, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', text);
    shas.push(git(work, 'rev-parse', 'HEAD'));
  }
  git(work, 'push', '-q', join(root, 'repo.git'), 'main');
  url = `file://${join(root, 'repo.git')}`;
});

function vars(values: Record<string, string>): JobVariable[] {
  return Object.entries(values).map(([key, value]) => ({ key, value, public: true, masked: false }));
}

function input(sha: string, variables: Record<string, string> = {}, repoUrl = url): SourcesScriptInput {
  const gitInfo: JobPayload['git_info'] = {
    repo_url: repoUrl,
    ref: 'main',
    sha,
    before_sha: '0'.repeat(40),
    ref_type: 'branch',
    repo_object_format: 'sha1',
    protected: false,
    depth: 0,
    refspecs: ['+refs/heads/main:refs/remotes/origin/main'],
  };
  return {
    gitInfo,
    variables: vars(variables),
    projectDir: join(root, 'builds', 'p'),
    tmpDir: join(root, 'builds', 'p.tmp'),
  };
}

function run(i: SourcesScriptInput): { code: number; log: string } {
  const made = sourcesScript(i);
  if ('error' in made) return { code: 1, log: made.error };
  const result = spawnSync('sh', [], { input: made.script, encoding: 'utf8', cwd: root });
  return { code: result.status ?? -1, log: result.stdout + result.stderr };
}

describe('get_sources as a shell script', () => {
  it('fetches into a fresh directory, checks out the sha, then fetches again and cleans', async () => {
    const dir = input(shas[0] ?? '').projectDir;
    const first = run(input(shas[0] ?? ''));
    expect(first.code, first.log).toBe(0);
    expect(first.log).toContain('Fetching changes...');
    expect(first.log).toContain('Created fresh repository.');
    expect(first.log).toContain(
      `Checking out ${(shas[0] ?? '').slice(0, 8)} as detached HEAD (ref is main)...`,
    );
    expect(first.log).toContain('Skipping Git submodules setup');
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('one');
    await writeFile(join(dir, 'junk.txt'), 'x');
    const second = run(input(shas[1] ?? '', { GIT_DEPTH: '1' }));
    expect(second.code, second.log).toBe(0);
    expect(second.log).toContain('Fetching changes with git depth set to 1...');
    expect(second.log).not.toContain('Created fresh repository.');
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('two');
    expect(existsSync(join(dir, 'junk.txt'))).toBe(false);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(shas[1]);
    expect(statSync(input(shas[0] ?? '').tmpDir).mode & 0o777).toBe(0o700);
  });

  it('keeps untracked files with GIT_CLEAN_FLAGS=none and skips the checkout with GIT_CHECKOUT=false', async () => {
    const dir = input(shas[0] ?? '').projectDir;
    expect(run(input(shas[1] ?? '')).code).toBe(0);
    await writeFile(join(dir, 'kept.txt'), 'x');
    const kept = run(input(shas[0] ?? '', { GIT_CLEAN_FLAGS: 'none' }));
    expect(kept.code, kept.log).toBe(0);
    expect(existsSync(join(dir, 'kept.txt'))).toBe(true);
    const skipped = run(input(shas[1] ?? '', { GIT_CHECKOUT: 'false' }));
    expect(skipped.log).toContain('Skipping Git checkout');
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(shas[0]);
  });

  it('clone starts from an empty directory; empty and none fetch nothing', async () => {
    const dir = input(shas[0] ?? '').projectDir;
    expect(run(input(shas[0] ?? '')).code).toBe(0);
    await writeFile(join(dir, '.git', 'marker'), 'x');
    expect(run(input(shas[1] ?? '', { GIT_STRATEGY: 'clone' })).log).toContain('Created fresh repository.');
    expect(existsSync(join(dir, '.git', 'marker'))).toBe(false);
    const empty = run(input(shas[1] ?? '', { GIT_STRATEGY: 'empty' }, 'http://127.0.0.1:1/never.git'));
    expect(empty.code, empty.log).toBe(0);
    expect(empty.log).toContain('Skipping Git repository setup and creating an empty build directory');
    expect(existsSync(join(dir, 'a.txt'))).toBe(false);
    const none = run(input(shas[1] ?? '', { GIT_STRATEGY: 'none' }, 'http://127.0.0.1:1/never.git'));
    expect(none.code, none.log).toBe(0);
    expect(none.log).toContain('Skipping Git repository setup');
  });

  it('fails with the failing command, and refuses an unknown strategy', () => {
    const failing = run(input('a'.repeat(40), {}, `file://${join(root, 'missing.git')}`));
    expect(failing.code).not.toBe(0);
    expect(failing.log).not.toContain('Checking out');
    const unknown = sourcesScript(input(shas[0] ?? '', { GIT_STRATEGY: 'rsync' }));
    expect(unknown).toEqual({
      error: 'ERROR: unknown GIT_STRATEGY "rsync"; use fetch, clone, none or empty\n',
    });
  });

  it('puts the clone URL (with the job token) in the script only, quoted', () => {
    const made = sourcesScript(input(shas[0] ?? '', {}, "http://gitlab-ci-token:t'k@127.0.0.1:9/g/p.git"));
    expect('script' in made && made.script).toContain(`'http://gitlab-ci-token:t'\\''k@127.0.0.1:9/g/p.git'`);
  });
});

const hasBusybox = spawnSync('busybox', ['true']).status === 0;

describe.skipIf(!hasBusybox)('get_sources probe of the coordinator (busybox nc)', () => {
  it('fails within the probe time with the unreachable message, naming the origin', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const made = sourcesScript({
      ...input(shas[0] ?? '', {}, `http://x:tok@127.0.0.1:${port}/g/p.git`),
      probeSeconds: 2,
    });
    if ('error' in made) throw new Error(made.error);
    const result = spawnSync('sh', [], { input: made.script, encoding: 'utf8', cwd: root });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(
      `ERROR: the coordinator http://127.0.0.1:${port} is unreachable from the job's network (`,
    );
    expect(result.stdout).toContain('refused');
    expect(result.stdout).not.toContain('Fetching changes');
  });
});
