/**
 * A job request whose answer fails after the claim's compare-and-set (a store read that timed out
 * waiting for a pool connection under load) puts the job back to pending: the runner got an
 * error, not the job. Before, such jobs stayed `running` with no runner until the watchdog (the
 * PostgreSQL throughput bench at 1,000 clients stalled with most of its jobs in that state).
 * Real in-memory SQLite store; only the failing call is injected.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  newJob,
  newPipeline,
  newProject,
  newRunner,
} from '../../../../test/kits/coordinator/store/conformance.js';
import { systemClock } from '../../../shared/clock.js';
import { silentLogger } from '../../../shared/logger.js';
import { defaultCoordinatorConfig } from '../../config.js';
import { createMemoryStore } from '../../store/create-store.js';
import type { JobRecord, RunnerRecord, Store } from '../../store/store.js';
import type { RepositoryReader } from '../repository.js';
import { RunnerQueue } from './runner-queue.js';
import { Scheduler } from '../scheduler.js';

/** What node-postgres says when no pool connection came free in time. */
const POOL_TIMEOUT = 'timeout exceeded when trying to connect';

let real: Store;
let failing: Set<string>;
/** Store reads that answer "no such row" (a project or pipeline deleted meanwhile). */
let missing: Set<string>;
/**
 * The claim's store call answers no pipeline read with it (its read failed, or the pipeline was
 * gone): the claim's answer reads it itself, through `getPipeline`, which the tests above inject.
 */
let withoutPipeline: boolean;
/** Calls that reached the store, by method. */
let calls: Map<string, number>;
let scheduler: Scheduler;

beforeEach(async () => {
  real = await createMemoryStore();
  failing = new Set();
  missing = new Set();
  withoutPipeline = false;
  calls = new Map();
  const store = new Proxy(real, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (typeof key !== 'string') return fn;
      return (...args: unknown[]) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        if (failing.delete(key)) return Promise.reject(new Error(POOL_TIMEOUT));
        if (missing.delete(key)) return Promise.resolve(null);
        if (key === 'claimPendingJobWithPipeline' && withoutPipeline)
          return (fn(...args) as Promise<{ job: JobRecord } | null>).then((r) =>
            r === null ? null : { job: r.job, pipeline: undefined },
          );
        return fn(...args);
      };
    },
  });
  scheduler = new Scheduler({
    store,
    // The payload's commit details: none (the payload then leaves them out).
    repos: { commitInfo: () => Promise.resolve(null) } as unknown as RepositoryReader,
    queue: new RunnerQueue(),
    clock: systemClock,
    logger: silentLogger(),
    config: defaultCoordinatorConfig({ externalUrl: 'http://127.0.0.1:1', artifactsDir: '/nonexistent' }),
  });
});

afterEach(async () => {
  await real.close();
});

async function onePendingJob(
  pipelineStatus: 'pending' | 'running',
): Promise<{ job: JobRecord; runner: RunnerRecord }> {
  const project = await real.createProject(newProject());
  const { jobs } = await real.createPipeline(newPipeline(project.id, { status: pipelineStatus }), [
    newJob('build', { status: 'pending', stageIdx: 0, stage: 'build' }),
  ]);
  const runner = await real.createRunner(newRunner('hash-1'));
  return { job: jobs[0] as JobRecord, runner };
}

describe('a job request that fails after its claim', () => {
  it('puts the job back to pending when reading its pipeline fails', async () => {
    const { job, runner } = await onePendingJob('running');
    withoutPipeline = true;
    failing.add('getPipeline');
    await expect(scheduler.claim(runner, 's_1')).rejects.toThrow(POOL_TIMEOUT);
    const after = await real.getJob(job.id);
    expect(after?.status).toBe('pending');
    expect(after?.runnerId).toBeNull();
    expect(after?.tokenHash).toBeNull();
    const again = await scheduler.claim(runner, 's_1');
    expect(again?.job.id).toBe(job.id);
  });

  it("reads the pipeline with the claim: no read of its own for a pending pipeline's first claim", async () => {
    const { job, runner } = await onePendingJob('pending');
    const claimed = await scheduler.claim(runner, 's_1');
    expect(claimed?.job.id).toBe(job.id);
    expect(calls.get('getPipeline')).toBeUndefined();
    expect(calls.get('updatePipeline')).toBe(1);
    expect((await real.getPipeline(job.pipelineId))?.status).toBe('running');
  });

  it('puts the job back to pending when marking its pipeline running fails', async () => {
    const { job, runner } = await onePendingJob('pending');
    failing.add('updatePipeline');
    await expect(scheduler.claim(runner, 's_1')).rejects.toThrow(POOL_TIMEOUT);
    expect((await real.getJob(job.id))?.status).toBe('pending');
    const again = await scheduler.claim(runner, 's_1');
    expect(again?.job.id).toBe(job.id);
    expect((await real.getPipeline(job.pipelineId))?.status).toBe('running');
  });
});

/**
 * A claimed job whose project or pipeline was deleted meanwhile: the claim answered `null`, which
 * the route takes for "nothing pending" (recorded for every runner with the same settings) while
 * the job stayed `running` with no runner until the watchdog. Now it fails (as GitLab drops it)
 * and the claim looks again.
 */
describe('a claimed job whose project or pipeline is gone', () => {
  it('fails the job (project_deleted) and answers nothing when no other job is pending', async () => {
    const { job, runner } = await onePendingJob('running');
    missing.add('getProject');
    expect(await scheduler.claim(runner, 's_1')).toBeNull();
    const after = await real.getJob(job.id);
    expect(after?.status).toBe('failed');
    expect(after?.failureReason).toBe('project_deleted');
    expect(after?.tokenHash).toBeNull();
  });

  it('fails the job (data_integrity_failure) and claims the next pending job', async () => {
    const { job, runner } = await onePendingJob('running');
    const { jobs } = await real.createPipeline(newPipeline(job.projectId, { status: 'running' }), [
      newJob('test', { status: 'pending', stageIdx: 0, stage: 'build' }),
    ]);
    withoutPipeline = true;
    missing.add('getPipeline');
    const claimed = await scheduler.claim(runner, 's_1');
    expect(claimed?.job.id).toBe(jobs[0]?.id);
    const after = await real.getJob(job.id);
    expect(after?.status).toBe('failed');
    expect(after?.failureReason).toBe('data_integrity_failure');
  });
});
