import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { JobPayload } from '../../api/runner-api.js';
import { validateConfig } from '../config/load.js';
import type { RunnerConfig } from '../config/schema.js';
import { BUILD_STAGES, type BuildStage, type ExecutorFactory } from '../../executors/executor.js';
import { createFakeExecutorFactory } from '../../../test/kits/executors/fake-executor.js';
import { createShellExecutorFactory } from '../../executors/shell/shell-executor.js';
import { jobPayload } from '../../../test/kits/executors/job-fixture.js';
import { silentLogger } from '../../shared/logger.js';
import { createCoordinatorClient } from '../coordinator-client.js';
import { createFakeClock, type FakeClock } from '../../../test/kits/fake-clock.js';
import { startFakeCoordinator, type FakeCoordinator } from '../../../test/kits/runner/fake-coordinator.js';
import { parseStampedLine, stripLogTimestamps } from '../../shared/log-timestamps.js';
import { runJob, type JobResult } from './run-job.js';

let coordinator: FakeCoordinator;
let clock: FakeClock;
let dir: string;
beforeEach(async () => {
  coordinator = await startFakeCoordinator();
  clock = createFakeClock();
  dir = await mkdtemp(join(tmpdir(), 'flo-job-'));
});
afterEach(() => coordinator.close());

let featureFlags: Record<string, boolean> = {};
beforeEach(() => {
  featureFlags = {};
});

function runnerConfig(outputLimit = 4096): RunnerConfig {
  const { config } = validateConfig({
    runners: [
      {
        name: 'r1',
        url: coordinator.url,
        token: 'glrt-abcdefghijkl',
        executor: 'shell',
        output_limit: outputLimit,
        feature_flags: featureFlags,
      },
    ],
  });
  return config.runners[0] as RunnerConfig;
}

function steps(script: string[], after?: string[]): JobPayload['steps'] {
  const list: JobPayload['steps'] = [
    { name: 'script', script, timeout: 3600, when: 'on_success', allow_failure: false },
  ];
  if (after)
    list.push({ name: 'after_script', script: after, timeout: 3600, when: 'always', allow_failure: true });
  return list;
}

async function start(
  payload: JobPayload,
  shutdown = new AbortController(),
  outputLimitKiB = 4096,
  executorFactory: ExecutorFactory = createShellExecutorFactory({ killGraceMs: 200 }),
): Promise<{ running: Promise<JobResult> }> {
  const client = createCoordinatorClient({
    url: coordinator.url,
    token: 'glrt-abcdefghijkl',
    systemId: 's_000000000000',
    info: {},
    userAgent: 't',
  });
  coordinator.enqueue({
    ...payload,
    variables: [{ key: 'GIT_STRATEGY', value: 'none', public: true, masked: false }, ...payload.variables],
  });
  const got = await client.requestJob(new AbortController().signal);
  if (got.kind !== 'job') throw new Error('no job');
  const running = runJob({
    payload: got.payload,
    runner: runnerConfig(outputLimitKiB),
    buildsDir: join(dir, 'builds'),
    cacheDir: join(dir, 'cache'),
    client,
    executorFactory,
    clock,
    logger: silentLogger(),
    systemId: 's_000000000000',
    version: '0.1.0',
    concurrentId: 0,
    shutdownSignal: shutdown.signal,
    maxBackoffMs: 1,
  });
  return { running };
}

async function waitFor(path: string): Promise<void> {
  while (!existsSync(path)) await new Promise((r) => setTimeout(r, 20));
}

const job = (id = 42) => coordinator.jobs.get(id);
const finalUpdate = (id = 42) => job(id)?.updates.at(-1);
const traceText = (id = 42) => job(id)?.trace.toString('utf8') ?? '';

describe('runJob with the shell executor', () => {
  it('runs a successful job: two-phase commit, header, sections, masking, final PUT', async () => {
    const variables = [
      { key: 'SECRET', value: 'supersecret99', public: false, masked: true },
      { key: 'FF_TIMESTAMPS', value: 'true', public: true, masked: false },
    ];
    const result = await (
      await start(
        jobPayload({ variables, steps: steps(['echo "pw=$SECRET"', 'echo token glpat-1234567890abcdef']) }),
      )
    ).running;
    expect(result).toEqual({ state: 'success' });
    expect(job()?.updates[0]).toMatchObject({ state: 'running' });
    expect(finalUpdate()).toMatchObject({ state: 'success', output: { bytesize: job()?.trace.length } });
    // FF_TIMESTAMPS on (a job variable): every line has the runner's header
    const stamped = traceText();
    expect(
      stamped
        .split('\n')
        .filter(Boolean)
        .every((line) => parseStampedLine(line) !== null),
    ).toBe(true);
    const text = stripLogTimestamps(stamped);
    expect(text).toMatch(
      /^Running with flotilla 0\.1\.0\n {2}on r1 abcdefghi, system ID: s_000000000000\n {2}feature flags: FF_TIMESTAMPS:true\n/,
    );
    expect(text).toMatch(
      // eslint-disable-next-line no-control-regex
      /section_start:\d+:step_script\r\x1b\[0K\x1b\[0K\x1b\[36;1mExecuting "step_script" stage of the job script/,
    );
    // eslint-disable-next-line no-control-regex
    expect(text).toMatch(/section_end:\d+:step_script\r\x1b\[0K/);
    expect(text).toContain('pw=[MASKED]');
    expect(text).toContain('glpat-[MASKED]');
    expect(text).not.toContain('supersecret99');
    expect(text).toContain('Job succeeded');
  });

  it('writes no timestamps by default, and no feature flag line in the header', async () => {
    await (
      await start(jobPayload({ steps: steps(['echo plain-line']) }))
    ).running;
    expect(traceText()).toMatch(
      /^Running with flotilla 0\.1\.0\n {2}on r1 abcdefghi, system ID: s_000000000000\n(?! {2}feature flags)/,
    );
    expect(traceText()).toContain('\nplain-line\n');
  });

  it('lets [runners.feature_flags] win over the job variable, as gitlab-runner does', async () => {
    featureFlags = { FF_TIMESTAMPS: true };
    const off = [{ key: 'FF_TIMESTAMPS', value: 'false', public: true, masked: false }];
    await (
      await start(jobPayload({ variables: off, steps: steps(['echo stamped-line']) }))
    ).running;
    const line = traceText()
      .split('\n')
      .find((l) => l.endsWith('stamped-line'));
    expect(parseStampedLine(line ?? '')?.content).toBe('stamped-line');
  });

  it('reports script_failure with the exit code and runs after_script with CI_JOB_STATUS=failed', async () => {
    const result = await (
      await start(jobPayload({ steps: steps(['exit 3'], ['echo "after:$CI_JOB_STATUS"']) }))
    ).running;
    expect(result).toEqual({ state: 'failed', failureReason: 'script_failure', exitCode: 3 });
    expect(finalUpdate()).toMatchObject({ state: 'failed', failure_reason: 'script_failure', exit_code: 3 });
    expect(traceText()).toContain('after:failed');
    expect(traceText()).toContain('ERROR: Job failed: exit code 3');
  });

  it('stops the script at the job timeout, runs after_script, reports job_execution_timeout', async () => {
    const marker = join(dir, 'started');
    const { running } = await start(
      jobPayload({
        runner_info: { timeout: 60 },
        steps: steps([`touch ${marker}; sleep 300`], ['echo "after:$CI_JOB_STATUS"']),
      }),
    );
    await waitFor(marker);
    clock.advance(60_000);
    const result = await running;
    expect(result).toMatchObject({ state: 'failed', failureReason: 'job_execution_timeout' });
    expect(traceText()).toContain('after:failed');
    expect(traceText()).toContain('ERROR: Job failed: execution took longer than 1m0s seconds');
  });

  it('stops after_script at RUNNER_AFTER_SCRIPT_TIMEOUT and keeps the job result', async () => {
    const marker = join(dir, 'after-started');
    const variables = [{ key: 'RUNNER_AFTER_SCRIPT_TIMEOUT', value: '10s', public: true, masked: false }];
    const { running } = await start(
      jobPayload({ variables, steps: steps(['echo main'], [`touch ${marker}; sleep 300`]) }),
    );
    await waitFor(marker);
    clock.advance(10_000);
    expect(await running).toEqual({ state: 'success' });
    expect(traceText()).toContain('WARNING: after_script timed out');
    expect(traceText()).toContain('Job succeeded');
  });

  it('cuts the log at output_limit with the notice while the job keeps running', async () => {
    const { running } = await start(
      jobPayload({
        steps: steps([
          'head -c 5000 /dev/zero | tr "\\0" x',
          'echo; echo still-running > ' + join(dir, 'out'),
        ]),
      }),
      new AbortController(),
      1,
    );
    expect(await running).toEqual({ state: 'success' });
    expect(traceText()).toContain("Job's log exceeded limit of 1024 bytes.");
    expect(existsSync(join(dir, 'out'))).toBe(true);
    expect(traceText()).not.toContain('Job succeeded');
  });

  it('on Job-Status canceling stops the script, runs after_script and reports failed', async () => {
    const marker = join(dir, 'started');
    const { running } = await start(
      jobPayload({ steps: steps([`touch ${marker}; sleep 300`], ['echo "after:$CI_JOB_STATUS"']) }),
    );
    await waitFor(marker);
    coordinator.setStatus(42, 'canceling');
    clock.advance(3000);
    const result = await running;
    expect(result.state).toBe('failed');
    expect(traceText()).toContain('after:canceled');
    expect(finalUpdate()).toMatchObject({ state: 'failed' });
  });

  it('on Job-Status canceled kills the job without after_script or a final PUT', async () => {
    const marker = join(dir, 'started');
    const { running } = await start(
      jobPayload({ steps: steps([`touch ${marker}; sleep 300`], [`touch ${join(dir, 'after-ran')}`]) }),
    );
    await waitFor(marker);
    coordinator.setStatus(42, 'canceled');
    clock.advance(3000);
    expect(await running).toEqual({ state: 'dropped' });
    expect(existsSync(join(dir, 'after-ran'))).toBe(false);
    expect(job()?.updates).toHaveLength(1);
  });

  it('on a forceful shutdown reports runner_system_failure without after_script', async () => {
    const marker = join(dir, 'started');
    const shutdown = new AbortController();
    const { running } = await start(
      jobPayload({ steps: steps([`touch ${marker}; sleep 300`], [`touch ${join(dir, 'after-ran')}`]) }),
      shutdown,
    );
    await waitFor(marker);
    shutdown.abort();
    expect(await running).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
    expect(finalUpdate()).toMatchObject({ state: 'failed', failure_reason: 'runner_system_failure' });
    expect(existsSync(join(dir, 'after-ran'))).toBe(false);
  });

  it('drops the job when the two-phase commit is refused', async () => {
    coordinator.putAnswers.push({ status: 409 });
    expect(await (await start(jobPayload())).running).toEqual({ state: 'dropped' });
  });

  it('reports runner_system_failure when prepare fails, skipping every later stage but cleanup', async () => {
    const fake = createFakeExecutorFactory({ prepare: new Error('no space left') });
    const payload = jobPayload({ steps: steps(['true'], ['true']) });
    const result = await (await start(payload, new AbortController(), 4096, fake)).running;
    expect(result).toEqual({ state: 'failed', failureReason: 'runner_system_failure' });
    expect(fake.calls).toEqual(['prepare', 'cleanup']);
    expect(traceText()).toContain('ERROR: Job failed (system failure): no space left');
  });

  it('runs the stages in gitlab-runner order and uploads artifacts on failure only when asked', async () => {
    const fake = createFakeExecutorFactory({ stages: { step_script: 2 } });
    const payload = jobPayload({
      steps: steps(['false'], ['true']),
      cache: [
        {
          key: 'k',
          untracked: false,
          paths: ['v'],
          policy: 'pull-push',
          when: 'on_success',
          fallback_keys: [],
        },
      ],
      dependencies: [
        { id: 1, name: 'b', token: 't', artifacts_file: { filename: 'artifacts.zip', size: 1 } },
      ],
      artifacts: [
        {
          name: 'a',
          untracked: false,
          paths: ['x'],
          exclude: [],
          when: 'on_failure',
          expire_in: null,
          artifact_type: 'archive',
          artifact_format: 'zip',
        },
      ],
    });
    const result = await (await start(payload, new AbortController(), 4096, fake)).running;
    expect(result).toEqual({ state: 'failed', failureReason: 'script_failure', exitCode: 2 });
    // Every stage in the executor port's order, but those of a successful job; the fake records
    // prepare_executor as its `prepare` call, then `cleanup`.
    const successOnly = new Set<BuildStage>(['archive_cache', 'upload_artifacts_on_success']);
    expect(fake.calls).toEqual([
      'prepare',
      ...BUILD_STAGES.filter((s) => s !== 'prepare_executor' && !successOnly.has(s)),
      'cleanup',
    ]);
  });

  it('retries the two-phase commit on a 503 before running', async () => {
    coordinator.putAnswers.push({ status: 503 });
    const fake = createFakeExecutorFactory();
    const { running } = await start(jobPayload(), new AbortController(), 4096, fake);
    await clock.waitForSleepers();
    clock.advance(1000);
    expect(await running).toEqual({ state: 'success' });
  });
});
