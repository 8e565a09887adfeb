import { describe, expect, it } from 'vitest';

import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import {
  createFakeExecutorFactory,
  type FakeExecutorScript,
} from '../../../test/kits/executors/fake-executor.js';
import { executorJob, jobPayload } from '../../../test/kits/executors/job-fixture.js';
import { createFakeClock } from '../../../test/kits/fake-clock.js';
import { silentLogger } from '../../shared/logger.js';
import { createJobTrace } from '../trace/job-trace.js';
import { attemptsOf, InvalidAttemptsError, jobAttempts, SECTION_ATTEMPTS_VARIABLE } from './attempts.js';
import { createJobControl } from './job-control.js';
import { runStages } from './stage-runner.js';

const variable = (key: string, value: string): JobVariable => ({ key, value, public: true, masked: false });

/** A job with a cache and an artifacts dependency, so every retried stage runs. */
function payloadWith(variables: JobVariable[]): JobPayload {
  return jobPayload({
    variables,
    cache: [
      {
        key: 'k',
        untracked: false,
        paths: ['x'],
        policy: 'pull-push',
        when: 'on_success',
        fallback_keys: [],
      },
    ],
    dependencies: [{ id: 1, name: 'build', token: 't', artifacts_file: { filename: 'a.zip', size: 1 } }],
  });
}

async function run(variables: JobVariable[], script: FakeExecutorScript) {
  const factory = createFakeExecutorFactory(script);
  const payload = payloadWith(variables);
  const trace = createJobTrace({ secrets: [], tokenPrefixes: [], limitBytes: 1 << 20 });
  const outcome = await runStages({
    payload,
    variables,
    executor: factory.create(executorJob('/nonexistent', payload)),
    executorName: 'shell',
    control: createJobControl(),
    trace,
    clock: createFakeClock(),
    logger: silentLogger(),
  });
  trace.finish();
  return { outcome, calls: factory.calls, log: trace.text() };
}

const count = (calls: string[], stage: string): number => calls.filter((c) => c === stage).length;

describe('attempt variables', () => {
  it('defaults to 1 and reads whole numbers from 1 to 10', () => {
    expect(attemptsOf([], 'GET_SOURCES_ATTEMPTS')).toBe(1);
    expect(attemptsOf([variable('GET_SOURCES_ATTEMPTS', '')], 'GET_SOURCES_ATTEMPTS')).toBe(1);
    expect(attemptsOf([variable('GET_SOURCES_ATTEMPTS', '10')], 'GET_SOURCES_ATTEMPTS')).toBe(10);
    expect(jobAttempts([variable('RESTORE_CACHE_ATTEMPTS', ' 3 ')])).toEqual({
      stage: { get_sources: 1, restore_cache: 3, download_artifacts: 1 },
      section: 1,
    });
  });

  it.each(['0', '11', '-1', '2.5', 'three', '1e1'])('refuses %j', (value) => {
    expect(() =>
      attemptsOf([variable('ARTIFACT_DOWNLOAD_ATTEMPTS', value)], 'ARTIFACT_DOWNLOAD_ATTEMPTS'),
    ).toThrow(InvalidAttemptsError);
  });

  it('fails the job before anything runs, naming the variable and the range', async () => {
    const { outcome, calls } = await run([variable('GET_SOURCES_ATTEMPTS', '11')], {});
    expect(outcome).toMatchObject({ state: 'failed', failureReason: 'script_failure' });
    expect(outcome.message).toBe(
      ': GET_SOURCES_ATTEMPTS is "11": the number of attempts must be a whole number in the range [1, 10]',
    );
    expect(calls).toEqual([]);
  });
});

describe('stage attempts', () => {
  it.each([
    ['GET_SOURCES_ATTEMPTS', 'get_sources'],
    ['RESTORE_CACHE_ATTEMPTS', 'restore_cache'],
    ['ARTIFACT_DOWNLOAD_ATTEMPTS', 'download_artifacts'],
  ] as const)('%s=3 runs %s again after failures until it succeeds', async (key, stage) => {
    const { outcome, calls, log } = await run([variable(key, '3')], {
      stages: { [stage]: [128, new Error('connection reset'), 0] },
    });
    expect(outcome.state).toBe('success');
    expect(count(calls, stage)).toBe(3);
    expect(count(calls, 'step_script')).toBe(1);
    expect(log).toContain(`failed (attempt 1 of 3): exit code 128`);
    expect(log).toContain(`Retrying ${stage} (attempt 2 of 3)...`);
    expect(log).toContain(`failed (attempt 2 of 3): system failure: connection reset`);
    expect(log).toContain(`Retrying ${stage} (attempt 3 of 3)...`);
    // one trace section per attempt, as gitlab-runner runs the stage again
    expect(log.match(new RegExp(`section_start:\\d+:${stage}\\r`, 'g'))).toHaveLength(3);
  });

  it('fails with the last attempt when every attempt fails, and never runs the script', async () => {
    const { outcome, calls, log } = await run([variable('GET_SOURCES_ATTEMPTS', '2')], {
      stages: { get_sources: 128 },
    });
    expect(outcome).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 128 });
    expect(count(calls, 'get_sources')).toBe(2);
    expect(calls).not.toContain('step_script');
    expect(log).toContain('Retrying get_sources (attempt 2 of 2)...');
    expect(log).not.toContain('attempt 2 of 2): exit code');
  });

  it('goes on without the cache when every restore_cache attempt exits non-zero (a warning, not a failure)', async () => {
    const { outcome, calls, log } = await run([variable('RESTORE_CACHE_ATTEMPTS', '2')], {
      stages: { restore_cache: 1 },
    });
    expect(outcome.state).toBe('success');
    expect(count(calls, 'restore_cache')).toBe(2);
    expect(count(calls, 'step_script')).toBe(1);
    expect(log).toContain('Retrying restore_cache (attempt 2 of 2)...');
    expect(log).toContain('failed: exit code 1; the job goes on without the cache');
    const once = await run([], { stages: { restore_cache: 1 } });
    expect(once.outcome.state).toBe('success');
    expect(count(once.calls, 'restore_cache')).toBe(1);
    // a system failure of the stage still fails the job
    const system = await run([], { stages: { restore_cache: new Error('engine gone') } });
    expect(system.outcome).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
  });

  it('runs a stage once by default, and never retries the script itself', async () => {
    const { outcome, calls, log } = await run([], { stages: { get_sources: [1, 0], step_script: [1, 0] } });
    expect(outcome.state).toBe('failed');
    expect(count(calls, 'get_sources')).toBe(1);
    expect(log).not.toContain('Retrying');
    const script = await run([variable('GET_SOURCES_ATTEMPTS', '5')], { stages: { step_script: [1, 0] } });
    expect(script.outcome).toMatchObject({ state: 'failed', exitCode: 1 });
    expect(count(script.calls, 'step_script')).toBe(1);
  });
});

describe('EXECUTOR_JOB_SECTION_ATTEMPTS', () => {
  const engineError = (): Error => new Error('(HTTP code 500) server error - failed to create container');

  it('runs a stage again within its section after an executor system failure', async () => {
    const { outcome, calls, log } = await run([variable(SECTION_ATTEMPTS_VARIABLE, '3')], {
      stages: { step_script: [engineError(), engineError(), 0] },
    });
    expect(outcome.state).toBe('success');
    expect(count(calls, 'step_script')).toBe(3);
    expect(log).toContain('failed (system failure, attempt 1 of 3): (HTTP code 500) server error');
    expect(log).toContain('Retrying step_script (attempt 3 of 3)...');
    expect(log.match(/section_start:\d+:step_script\r/g)).toHaveLength(1);
  });

  it('gives up after the limit with runner_system_failure', async () => {
    const { outcome, calls } = await run([variable(SECTION_ATTEMPTS_VARIABLE, '2')], {
      stages: { step_script: engineError() },
    });
    expect(outcome).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
    expect(count(calls, 'step_script')).toBe(2);
  });

  it('does not retry a non-zero exit, nor an error tagged with another failure reason', async () => {
    const exit = await run([variable(SECTION_ATTEMPTS_VARIABLE, '5')], { stages: { step_script: [2, 0] } });
    expect(exit.outcome).toMatchObject({ state: 'failed', exitCode: 2 });
    expect(count(exit.calls, 'step_script')).toBe(1);
    const tagged = Object.assign(new Error('image not found'), { failureReason: 'image_pull_failure' });
    const pull = await run([variable(SECTION_ATTEMPTS_VARIABLE, '5')], {
      stages: { step_script: [tagged, 0] },
    });
    expect(pull.outcome.state).toBe('failed');
    expect(count(pull.calls, 'step_script')).toBe(1);
  });

  it('multiplies with a stage attempt variable: section retries inside each stage attempt', async () => {
    const { outcome, calls } = await run(
      [variable(SECTION_ATTEMPTS_VARIABLE, '2'), variable('GET_SOURCES_ATTEMPTS', '2')],
      { stages: { get_sources: [engineError(), engineError(), engineError(), 0] } },
    );
    expect(outcome.state).toBe('success');
    expect(count(calls, 'get_sources')).toBe(4);
  });
});
