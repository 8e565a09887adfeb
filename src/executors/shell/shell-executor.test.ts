import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { JobPayload } from '../../api/runner-api.js';
import type { Executor, StageContext } from '../executor.js';
import {
  executorJob,
  jobPayload,
  mainBranchGitInfo,
  memoryOutput,
} from '../../../test/kits/executors/job-fixture.js';
import type { Launcher } from './launcher.js';
import { LAUNCHERS, useLauncher } from '../../../test/kits/executors/launchers.js';
import { createShellExecutorFactory, projectDirFor } from './shell-executor.js';
import { gitIn } from '../../../test/kits/executors/git-in.js';
import { isGone } from '../../../test/kits/executors/processes.js';

const executors: Executor[] = [];
afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.cleanup()));
});

/** The launcher of the describe block running (undefined: the direct launcher). */
let launcher: Launcher | undefined;

async function setup(overrides: Partial<JobPayload>) {
  const buildsDir = await mkdtemp(join(tmpdir(), 'flo-shell-'));
  const job = executorJob(buildsDir, jobPayload(overrides));
  const executor = createShellExecutorFactory({ killGraceMs: 200, ...(launcher ? { launcher } : {}) }).create(
    job,
  );
  executors.push(executor);
  const output = memoryOutput();
  const ctx = (
    signal = new AbortController().signal,
    jobStatus: StageContext['jobStatus'] = 'success',
  ): StageContext => ({ output, signal, jobStatus });
  await executor.prepare(ctx());
  return { executor, output, ctx, job, projectDir: projectDirFor(job) };
}

function script(...commands: string[]): JobPayload['steps'][number] {
  return { name: 'script', script: commands, timeout: 3600, when: 'on_success', allow_failure: false };
}

function afterScript(...commands: string[]): JobPayload['steps'][number] {
  return { name: 'after_script', script: commands, timeout: 3600, when: 'always', allow_failure: true };
}

/** Waits until the process is gone; a process that is never killed fails the test by its timeout. */
async function waitUntilGone(pid: number): Promise<boolean> {
  while (!isGone(pid)) await new Promise((r) => setTimeout(r, 20));
  return true;
}

async function waitForFile(path: string): Promise<string> {
  for (;;) {
    if (existsSync(path)) {
      const text = (await readFile(path, 'utf8')).trim();
      if (text) return text;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(LAUNCHERS)('shell executor scripts (%s)', (kind) => {
  const block = useLauncher(kind);
  beforeAll(() => {
    launcher = block.current();
  });
  afterAll(() => {
    launcher = undefined;
  });

  it('runs before_script+script in one bash, echoing commands in green', async () => {
    const variables = [
      { key: 'GREETING', value: 'hello world', public: true, masked: false },
      { key: 'CONF', value: 'file-content', public: false, masked: false, file: true },
      { key: 'GOPATH', value: '$CI_PROJECT_DIR/.go', public: true, masked: false },
    ];
    const { executor, output, ctx, projectDir } = await setup({
      variables,
      steps: [script('X=1', 'echo "$GREETING $X"', 'cat "$CONF"', 'echo "gopath=$GOPATH"')],
    });
    expect(await executor.runStage('step_script', ctx())).toEqual({ exitCode: 0 });
    expect(output.text()).toContain('\x1b[32;1m$ echo "$GREETING $X"\x1b[0;m\nhello world 1\n');
    expect(output.text()).toContain('file-content');
    expect(output.text()).toContain(`gopath=${projectDir}/.go`);
  });

  it.each([
    [['exit 3', 'echo never'], 3],
    [['false', 'echo never'], 1],
    [['echo a | false | cat'], 1],
    [['true'], 0],
  ])('returns the exit code of %j', async (commands, code) => {
    const { executor, output, ctx } = await setup({ steps: [script(...commands)] });
    expect((await executor.runStage('step_script', ctx())).exitCode).toBe(code);
    expect(output.text()).not.toContain('\nnever');
  });

  it('runs after_script in a separate shell with CI_JOB_STATUS', async () => {
    const { executor, output, ctx } = await setup({
      steps: [script('exit 1'), afterScript('echo "status=$CI_JOB_STATUS"')],
    });
    expect((await executor.runStage('step_script', ctx())).exitCode).toBe(1);
    expect((await executor.runStage('after_script', ctx(undefined, 'failed'))).exitCode).toBe(0);
    expect(output.text()).toContain('status=failed');
  });

  it('kills the whole process tree on abort and rejects with the reason', async () => {
    const buildsDir = await mkdtemp(join(tmpdir(), 'flo-pid-'));
    const pidFile = join(buildsDir, 'bg.pid');
    const { executor, ctx } = await setup({
      steps: [script(`sleep 300 & echo $! > ${pidFile}`, 'sleep 300')],
    });
    const controller = new AbortController();
    const running = executor.runStage('step_script', ctx(controller.signal));
    const pid = Number(await waitForFile(pidFile));
    controller.abort(new Error('canceled by test'));
    await expect(running).rejects.toThrow('canceled by test');
    expect(await waitUntilGone(pid)).toBe(true);
  });

  it('does not leave background processes behind after a stage ends', async () => {
    const buildsDir = await mkdtemp(join(tmpdir(), 'flo-pid-'));
    const pidFile = join(buildsDir, 'bg.pid');
    const { executor, ctx } = await setup({ steps: [script(`sleep 300 & echo $! > ${pidFile}`)] });
    expect((await executor.runStage('step_script', ctx())).exitCode).toBe(0);
    expect(await waitUntilGone(Number(await waitForFile(pidFile)))).toBe(true);
  });

  it('cleanup is idempotent and safe without prepare', async () => {
    const buildsDir = await mkdtemp(join(tmpdir(), 'flo-clean-'));
    const executor = createShellExecutorFactory().create(executorJob(buildsDir, jobPayload()));
    await executor.cleanup();
    await executor.cleanup();
  });
});

async function bareRepo(): Promise<{
  url: string;
  work: string;
  commit(file: string, text: string): Promise<string>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'flo-git-'));
  gitIn(root, 'init', '-q', '--bare', '-b', 'main', 'repo.git');
  gitIn(root, 'init', '-q', '-b', 'main', 'work');
  const work = join(root, 'work');
  gitIn(work, 'remote', 'add', 'origin', join(root, 'repo.git'));
  return {
    url: `file://${join(root, 'repo.git')}`,
    work,
    async commit(file, text) {
      await writeFile(join(work, file), text);
      gitIn(work, 'add', '.');
      gitIn(work, 'commit', '-q', '-m', file);
      gitIn(work, 'push', '-q', 'origin', 'main');
      return gitIn(work, 'rev-parse', 'HEAD');
    },
  };
}

function gitInfo(url: string, sha: string, depth = 1): JobPayload['git_info'] {
  return mainBranchGitInfo(url, sha, depth, ['+refs/heads/main:refs/remotes/origin/main']);
}

describe('shell executor get_sources', () => {
  it('fetches, checks out the sha and cleans, then fetches again into the same directory', async () => {
    const repo = await bareRepo();
    const first = await repo.commit('a.txt', 'one');
    const second = await repo.commit('a.txt', 'two');
    const { executor, output, ctx, projectDir } = await setup({ git_info: gitInfo(repo.url, first, 0) });
    expect((await executor.runStage('get_sources', ctx())).exitCode).toBe(0);
    expect(await readFile(join(projectDir, 'a.txt'), 'utf8')).toBe('one');
    expect(output.text()).toContain('Created fresh repository.');
    expect(output.text()).toContain(`Checking out ${first.slice(0, 8)} as detached HEAD (ref is main)...`);
    await writeFile(join(projectDir, 'junk.txt'), 'x');
    const again = createShellExecutorFactory().create(
      executorJob(
        projectDir.split('/abcdefghi/')[0] ?? '',
        jobPayload({ git_info: gitInfo(repo.url, second) }),
      ),
    );
    executors.push(again);
    await again.prepare(ctx());
    expect((await again.runStage('get_sources', ctx())).exitCode).toBe(0);
    expect(await readFile(join(projectDir, 'a.txt'), 'utf8')).toBe('two');
    expect(existsSync(join(projectDir, 'junk.txt'))).toBe(false);
    expect(output.text()).toContain('Fetching changes with git depth set to 1...');
  });

  it('honours GIT_STRATEGY=none and reports a failing fetch', async () => {
    const variables = [{ key: 'GIT_STRATEGY', value: 'none', public: true, masked: false }];
    const none = await setup({
      variables,
      git_info: gitInfo('file:///nonexistent/repo.git', 'a'.repeat(40)),
    });
    expect((await none.executor.runStage('get_sources', none.ctx())).exitCode).toBe(0);
    expect(none.output.text()).toContain('Skipping Git repository setup');
    const failing = await setup({ git_info: gitInfo('file:///nonexistent/repo.git', 'a'.repeat(40)) });
    expect((await failing.executor.runStage('get_sources', failing.ctx())).exitCode).not.toBe(0);
  });
});
