/**
 * Finishes of one stage at once through the scheduler: quiet successes are written and checked
 * outside the pipeline's lock (see Scheduler.finish), and the stage's last finish still moves the
 * pipeline on, exactly once, whatever the order the finishes land in.
 */
import { describe, expect, it, vi } from 'vitest';

import type { JobRecord, Store } from '../store/store.js';
import { Scheduler } from './scheduler.js';
import {
  testJob,
  testPipeline,
  testProject,
  useSchedulerTestBed,
} from '../../../test/kits/coordinator/scheduler/pipeline-fixtures.js';

const bed = useSchedulerTestBed();

/** A pipeline of `width` jobs in stage 0 and `next` in stage 1, processed, stage 0 running. */
async function runningStage(scheduler: Scheduler, width: number): Promise<JobRecord[]> {
  const names = Array.from({ length: width }, (_, i) => `j${i}`);
  const noRetry = { max: 0, when: [], exitCodes: [] };
  const specs = [...names.map((n) => testJob(n)), testJob('next', { stage: 1 })].map((j) => ({
    ...j,
    definition: { ...j.definition, retry: noRetry },
  }));
  const { pipeline, jobs } = await testPipeline(bed.store, await testProject(bed.store), specs);
  await scheduler.process(pipeline.id);
  const running: JobRecord[] = [];
  for (const job of jobs.slice(0, width)) {
    const updated = await bed.store.updateJob(job.id, { status: 'running', startedAt: new Date() }, [
      'pending',
    ]);
    if (!updated) throw new Error(`job ${job.name} was not pending`);
    running.push(updated);
  }
  return running;
}

async function statusOf(pipelineId: number): Promise<{ pipeline: string | undefined; jobs: string[] }> {
  const { items } = await bed.store.listJobs({ pipelineId });
  const pipeline = await bed.store.getPipeline(pipelineId);
  return { pipeline: pipeline?.status, jobs: items.map((j) => `${j.name}:${j.status}`) };
}

describe('Scheduler.finish of many jobs of a stage at once', () => {
  it('moves the next stage on once every job of the stage succeeded', async () => {
    const scheduler = new Scheduler(bed.deps);
    const running = await runningStage(scheduler, 8);
    const pipelineId = running[0]?.pipelineId ?? -1;
    // All but one at once: the stage still runs, nothing moves.
    await Promise.all(running.slice(1).map((job) => scheduler.finish(job, { state: 'success' })));
    expect((await statusOf(pipelineId)).jobs).toContain('next:created');
    await scheduler.finish(running[0] as JobRecord, { state: 'success' });
    expect((await statusOf(pipelineId)).jobs).toContain('next:pending');
  });

  it('moves the next stage on when all finish at once, and the pipeline ends with its last job', async () => {
    const scheduler = new Scheduler(bed.deps);
    const running = await runningStage(scheduler, 8);
    const pipelineId = running[0]?.pipelineId ?? -1;
    const answers = await Promise.all(running.map((job) => scheduler.finish(job, { state: 'success' })));
    expect(answers.map((j) => j?.status)).toEqual(running.map(() => 'success'));
    const after = await statusOf(pipelineId);
    expect(after.jobs.filter((j) => j === 'next:pending')).toHaveLength(1);
    const next = (await bed.store.listJobs({ pipelineId })).items.find((j) => j.name === 'next');
    const started = await bed.store.updateJob(next?.id ?? -1, { status: 'running' }, ['pending']);
    await scheduler.finish(started as JobRecord, { state: 'success' });
    expect((await statusOf(pipelineId)).pipeline).toBe('success');
  });

  it('fails the pipeline when one job of the stage fails among successes at once', async () => {
    const scheduler = new Scheduler(bed.deps);
    const running = await runningStage(scheduler, 6);
    const pipelineId = running[0]?.pipelineId ?? -1;
    await Promise.all(
      running.map((job, i) =>
        scheduler.finish(
          job,
          i === 3 ? { state: 'failed', failureReason: 'script_failure' } : { state: 'success' },
        ),
      ),
    );
    const after = await statusOf(pipelineId);
    expect(after.pipeline).toBe('failed');
    expect(after.jobs).toContain('next:skipped');
  });

  it('answers a finish of a job that is not running any more with nothing', async () => {
    const scheduler = new Scheduler(bed.deps);
    const running = await runningStage(scheduler, 2);
    const job = running[0] as JobRecord;
    expect(await scheduler.finish(job, { state: 'success' })).toMatchObject({ status: 'success' });
    expect(await scheduler.finish(job, { state: 'success' })).toBeNull();
    expect((await statusOf(job.pipelineId)).jobs).toContain('next:created');
  });

  it("processes the stage's last finish from the listing its check read: no second listing", async () => {
    const calls = new Map<string, number>();
    const scheduler = new Scheduler({ ...bed.deps, store: counting(bed.store, calls) });
    const [job] = await runningStage(scheduler, 1);
    calls.clear();
    await scheduler.finish(job as JobRecord, { state: 'success' });
    const after = await statusOf(job?.pipelineId ?? -1);
    expect(after.jobs).toContain('next:pending');
    expect(after.pipeline).toBe('running');
    expect(calls.get('listJobsUnlessUnderway')).toBe(1);
    expect(calls.get('listJobs')).toBeUndefined();
  });

  it('lets a finish be quiet while a job of its stage still waits for a runner (one runner, one job at a time)', async () => {
    const calls = new Map<string, number>();
    const scheduler = new Scheduler({ ...bed.deps, store: counting(bed.store, calls) });
    const [first] = await runningStage(scheduler, 1);
    const pipelineId = first?.pipelineId ?? -1;
    // A second job of the stage, still pending: the runner takes it after the first.
    const template = first as JobRecord;
    const [second] = await bed.store.createJobs(pipelineId, template.projectId, [
      { ...template, status: 'pending', name: 'j1', retryOfId: null },
    ]);
    calls.clear();
    await scheduler.finish(first as JobRecord, { state: 'success' });
    // Nothing moves: no listing, no status write; the next stage waits for the pending job.
    expect(calls.get('listJobs')).toBeUndefined();
    expect(calls.get('setPipelineStatus')).toBeUndefined();
    expect((await statusOf(pipelineId)).jobs).toContain('next:created');
    const started = await bed.store.updateJob(second?.id ?? -1, { status: 'running' }, ['pending']);
    await scheduler.finish(started as JobRecord, { state: 'success' });
    const after = await statusOf(pipelineId);
    expect(after.jobs).toContain('next:pending');
    expect(after.pipeline).toBe('running');
  });

  it('lists the jobs again when locked work on the pipeline ran while the check was read', async () => {
    const calls = new Map<string, number>();
    const holder: { scheduler?: Scheduler } = {};
    let during: Promise<void> | undefined;
    const store = counting(bed.store, calls, (method, pipelineId) => {
      if (method === 'listJobsUnlessUnderway') during = holder.scheduler?.process(pipelineId);
    });
    const scheduler = new Scheduler({ ...bed.deps, store });
    holder.scheduler = scheduler;
    const [job] = await runningStage(scheduler, 1);
    calls.clear();
    await scheduler.finish(job as JobRecord, { state: 'success' });
    await during;
    // The processing run meanwhile listed once; the finish's own processing listed again.
    expect(calls.get('listJobs')).toBe(2);
    const after = await statusOf(job?.pipelineId ?? -1);
    expect(after.jobs.filter((j) => j === 'next:pending')).toHaveLength(1);
    expect(after.pipeline).toBe('running');
  });

  it('joins processings of a pipeline asked for while one waits for its turn', async () => {
    const scheduler = new Scheduler(bed.deps);
    const running = await runningStage(scheduler, 2);
    const pipelineId = running[0]?.pipelineId ?? -1;
    const listJobs = vi.spyOn(bed.deps.store, 'listJobs');
    await scheduler.process(pipelineId);
    const one = listJobs.mock.calls.length;
    expect(one).toBeGreaterThan(0);
    listJobs.mockClear();
    // Five asked for before the first started to read: one processing.
    await Promise.all(Array.from({ length: 5 }, () => scheduler.process(pipelineId)));
    expect(listJobs.mock.calls.length).toBe(one);
    // Asked for once the queued one started: a processing of its own, after it.
    listJobs.mockClear();
    const first = scheduler.process(pipelineId);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await Promise.all([first, scheduler.process(pipelineId)]);
    expect(listJobs.mock.calls.length).toBe(2 * one);
    listJobs.mockRestore();
  });
});

/** `store`, counting the calls by method; `before` sees each call (with its first argument) first. */
function counting(
  store: Store,
  calls: Map<string, number>,
  before?: (method: string, first: number) => void,
): Store {
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        before?.(key, args[0] as number);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
