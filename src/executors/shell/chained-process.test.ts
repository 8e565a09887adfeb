import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitIn } from '../../../test/kits/executors/git-in.js';

import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import type { StageContext } from '../executor.js';
import {
  executorJob,
  jobPayload,
  mainBranchGitInfo,
  memoryOutput,
} from '../../../test/kits/executors/job-fixture.js';
import { envSwitch } from './chained-process.js';
import type { Launcher } from './launcher.js';
import { LAUNCHERS, useLauncher } from '../../../test/kits/executors/launchers.js';
import { createShellExecutorFactory, projectDirFor } from './shell-executor.js';
import { isGone } from '../../../test/kits/executors/processes.js';

describe('envSwitch', () => {
  it('unsets what only the first has and exports what differs', () => {
    expect(envSwitch({ A: '1', B: '2', C: 'x' }, { A: '1', C: "it's", D: 'd' })).toBe(
      `unset B; export C=$'it\\'s'; export D=$'d'`,
    );
    expect(envSwitch({ A: '1' }, { A: '1' })).toBe('');
  });

  it.each(['BASH_ENV', 'ENV', 'TMOUT', 'SHELLOPTS', 'BASH_FUNC_git%%', '1X', 'A-B'])(
    'refuses an environment with %s',
    (key) => {
      expect(envSwitch({ [key]: 'v' }, {})).toBeNull();
    },
  );
});

async function origin(): Promise<{ bare: string; sha: string }> {
  const root = await mkdtemp(join(tmpdir(), 'flo-chain-'));
  gitIn(root, 'init', '-q', '--bare', '-b', 'main', 'repo.git');
  gitIn(root, 'init', '-q', '-b', 'main', 'work');
  const work = join(root, 'work');
  await writeFile(join(work, 'a.txt'), 'v1');
  gitIn(work, 'add', '.');
  gitIn(work, 'commit', '-q', '-m', 'c1');
  const bare = join(root, 'repo.git');
  gitIn(work, 'push', '-q', bare, 'main');
  return { bare, sha: gitIn(work, 'rev-parse', 'HEAD') };
}

/** The launcher of the describe block running (undefined: the direct launcher). */
let launcher: Launcher | undefined;

const variable = (key: string, value: string): JobVariable => ({ key, value, public: true, masked: false });

/** A job of a shared-sources shell runner with these variables and script, prepared. */
async function chainedJob(variables: JobVariable[], commands: string[], overrides: Partial<JobPayload> = {}) {
  const { bare, sha } = await origin();
  const buildsDir = await mkdtemp(join(tmpdir(), 'flo-chain-builds-'));
  const payload = jobPayload({
    variables,
    steps: [{ name: 'script', script: commands, timeout: 3600, when: 'on_success', allow_failure: false }],
    git_info: mainBranchGitInfo(`file://${bare}`, sha, 0, ['+refs/heads/main:refs/remotes/origin/main']),
    ...overrides,
  });
  const job = executorJob(buildsDir, payload);
  const executor = createShellExecutorFactory({
    sharedSources: true,
    killGraceMs: 200,
    ...(launcher ? { launcher } : {}),
  }).create(job);
  const sources = memoryOutput();
  const script = memoryOutput();
  const ctx = (output: StageContext['output'], signal = new AbortController().signal): StageContext => ({
    output,
    signal,
    jobStatus: 'success',
  });
  await executor.prepare(ctx(sources));
  return { executor, sources, script, ctx, sha, projectDir: projectDirFor(job) };
}

/** The environment the script wrote to env.bin, without what bash itself sets. */
function scriptEnv(projectDir: string): Map<string, string> {
  const entries = readFileSync(join(projectDir, 'env.bin'), 'utf8')
    .split('\0')
    .filter((e) => e.includes('='))
    .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as [string, string]);
  return new Map(entries.filter(([k]) => !['_', 'PWD', 'OLDPWD', 'SHLVL'].includes(k)));
}

describe.each(LAUNCHERS)('checkout and first script step in one process (%s)', (kind) => {
  const block = useLauncher(kind);
  beforeAll(() => {
    launcher = block.current();
  });
  afterAll(() => {
    launcher = undefined;
  });

  it('checks out with git’s environment, then runs the script with the job’s own', async () => {
    const vars = [
      variable('GIT_DIR', '/nonexistent'),
      variable('LC_ALL', 'POSIX'),
      variable('X', 'a b'),
      // The names the chain's own shell code could have used.
      ...['sha', 'script', 'marker', 'go', '_x'].map((name) => variable(name, `job ${name}`)),
    ];
    const commands = ['env -0 > env.bin', 'cat a.txt'];
    const chained = await chainedJob(vars, commands);
    const plain = await chainedJob(vars, commands, {
      cache: [
        {
          key: 'k',
          paths: ['x'],
          policy: 'pull-push',
          untracked: false,
          when: 'on_success',
          fallback_keys: [],
        },
      ],
    });
    for (const run of [chained, plain]) {
      expect((await run.executor.runStage('get_sources', run.ctx(run.sources))).exitCode).toBe(0);
      expect(run.sources.text()).toContain('Skipping Git submodules setup');
      expect(run.sources.text()).not.toContain('v1');
      expect((await run.executor.runStage('step_script', run.ctx(run.script))).exitCode).toBe(0);
      expect(run.script.text().endsWith('v1')).toBe(true);
      await run.executor.cleanup();
    }
    const env = scriptEnv(chained.projectDir);
    expect(env.get('GIT_DIR')).toBe('/nonexistent');
    expect(env.get('LC_ALL')).toBe('POSIX');
    expect(env.get('X')).toBe('a b');
    for (const name of ['sha', 'script', 'marker', 'go']) expect(env.get(name)).toBe(`job ${name}`);
    expect(env.has('GIT_TERMINAL_PROMPT')).toBe(process.env['GIT_TERMINAL_PROMPT'] !== undefined);
    const differing = [...env].filter(
      ([k, v]) =>
        !/^(CI_PROJECT_DIR|RUNNER_TEMP_PROJECT_DIR|CI_BUILDS_DIR)$/.test(k) &&
        scriptEnv(plain.projectDir).get(k) !== v,
    );
    expect(differing).toEqual([]);
  });

  it('keeps the environments it switches between out of the process’s command line', async () => {
    process.env['CHAIN_TEST_HOST_SECRET'] = 'host-secret-value';
    try {
      const run = await chainedJob([variable('CHAIN_TEST_HOST_SECRET', 'job value')], ['true']);
      expect((await run.executor.runStage('get_sources', run.ctx(run.sources))).exitCode).toBe(0);
      const chains = readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .map((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          } catch {
            return '';
          }
        })
        .filter((cmdline) => cmdline.includes(run.sha) && cmdline.includes('FLOTILLA-CHAIN-'));
      expect(chains.length).toBeGreaterThan(0);
      for (const cmdline of chains) expect(cmdline).not.toContain('host-secret-value');
      expect((await run.executor.runStage('step_script', run.ctx(run.script))).exitCode).toBe(0);
      await run.executor.cleanup();
    } finally {
      delete process.env['CHAIN_TEST_HOST_SECRET'];
    }
  });

  it('returns the script’s exit code and keeps the checkout’s failure in get_sources', async () => {
    const failing = await chainedJob([], ['echo before', 'exit 7', 'echo never']);
    expect((await failing.executor.runStage('get_sources', failing.ctx(failing.sources))).exitCode).toBe(0);
    expect((await failing.executor.runStage('step_script', failing.ctx(failing.script))).exitCode).toBe(7);
    expect(failing.script.text()).toContain('before');
    expect(failing.script.text()).not.toContain('\nnever');
    await failing.executor.cleanup();
  });

  it('fails get_sources on a bad checkout and never runs the script', async () => {
    const { bare } = await origin();
    // a sha the store does not have: its fetch succeeds (the refspec), the checkout fails
    const wrong = await chainedJob([], ['touch ran.txt'], {
      git_info: {
        ...jobPayload().git_info,
        repo_url: `file://${bare}`,
        sha: 'f'.repeat(40),
        refspecs: ['+refs/heads/main:refs/remotes/origin/main'],
      },
    });
    expect((await wrong.executor.runStage('get_sources', wrong.ctx(wrong.sources))).exitCode).not.toBe(0);
    await wrong.executor.cleanup();
    expect(wrong.sources.text()).not.toContain('Skipping Git submodules setup');
    expect(existsSync(join(wrong.projectDir, 'ran.txt'))).toBe(false);
  });

  it('kills the process group when the script stage is aborted, and ends a waiting process on cleanup', async () => {
    const pidFile = join(await mkdtemp(join(tmpdir(), 'flo-chain-pid-')), 'pid');
    const run = await chainedJob([], [`sleep 300 & echo $! > ${pidFile}`, 'sleep 300']);
    expect((await run.executor.runStage('get_sources', run.ctx(run.sources))).exitCode).toBe(0);
    const controller = new AbortController();
    const running = run.executor.runStage('step_script', run.ctx(run.script, controller.signal));
    while (!existsSync(pidFile) || (await readFile(pidFile, 'utf8')).trim() === '')
      await new Promise((r) => setTimeout(r, 20));
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    controller.abort(new Error('canceled by test'));
    await expect(running).rejects.toThrow('canceled by test');
    while (!isGone(pid)) await new Promise((r) => setTimeout(r, 20));

    const waiting = await chainedJob([], ['touch ran.txt']);
    expect((await waiting.executor.runStage('get_sources', waiting.ctx(waiting.sources))).exitCode).toBe(0);
    expect(processesIn(waiting.projectDir)).toHaveLength(1);
    await waiting.executor.cleanup();
    while (processesIn(waiting.projectDir).length > 0) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(join(waiting.projectDir, 'ran.txt'))).toBe(false);
  });

  it('keeps two processes when the environment has a variable bash treats specially', async () => {
    const run = await chainedJob([variable('TMOUT', '1')], ['sleep 1.5', 'echo "tmout=$TMOUT"']);
    expect((await run.executor.runStage('get_sources', run.ctx(run.sources))).exitCode).toBe(0);
    expect((await run.executor.runStage('step_script', run.ctx(run.script))).exitCode).toBe(0);
    expect(run.script.text()).toContain('tmout=1');
    await run.executor.cleanup();
  });
});

/** Live processes whose working directory is `dir`. */
function processesIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readlinkSync(`/proc/${name}/cwd`) === dir && !isGone(Number(name));
      } catch {
        return false;
      }
    })
    .map(Number);
}
