/**
 * finishMovesNothing on a real (in-memory SQLite) store: when a finish may skip the listing, and
 * every case where it must not.
 */
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../../api/job-status.js';
import type { JobRecord, NewJob } from '../../store/store.js';
import { processPipeline } from './process-pipeline.js';
import { finishListing, finishMovesNothing, PipelineShapes, shapeOf } from './quiet-finish.js';
import {
  testJob,
  testPipeline,
  testProject,
  useSchedulerTestBed,
} from '../../../../test/kits/coordinator/scheduler/pipeline-fixtures.js';

const bed = useSchedulerTestBed();

const job = testJob;

async function pipeline(jobs: NewJob[]): Promise<JobRecord[]> {
  return (await testPipeline(bed.store, await testProject(bed.store), jobs, 'running')).jobs;
}

async function set(job: JobRecord | undefined, status: JobStatus): Promise<JobRecord> {
  const updated = await bed.store.updateJob(job?.id ?? -1, { status });
  if (!updated) throw new Error('no job');
  return updated;
}

/** Jobs a and b in stage 0 running, c in stage 1 created; a then ends with `end`. */
async function twoRunning(
  end: JobStatus,
  extra: NewJob[] = [],
): Promise<{ jobs: JobRecord[]; finished: JobRecord }> {
  const jobs = await pipeline([job('a'), job('b'), job('c', { stage: 1 }), ...extra]);
  await set(jobs[0], 'running');
  await set(jobs[1], 'running');
  const finished = await set(jobs[0], end);
  return { jobs, finished };
}

describe('finishMovesNothing', () => {
  it('skips when another job of the stage still runs, and processing would indeed write nothing', async () => {
    const { jobs, finished } = await twoRunning('success');
    expect(await finishMovesNothing(bed.deps, finished, shapeOf(jobs))).toBe(true);
    await processPipeline(bed.deps, finished.pipelineId);
    expect(await bed.store.getJob(jobs[2]?.id ?? -1)).toMatchObject({ status: 'created' });
    expect(await bed.store.getPipeline(finished.pipelineId)).toMatchObject({ status: 'running' });
  });

  it('does not skip for the last running job of the stage', async () => {
    const { jobs, finished } = await twoRunning('success');
    const last = await set(jobs[1], 'success');
    expect(await finishMovesNothing(bed.deps, last, shapeOf(jobs))).toBe(false);
    expect(finished.status).toBe('success');
  });

  it('does not skip when only a job of a later stage runs', async () => {
    const jobs = await pipeline([job('a'), job('d', { stage: 1, needs: [] })]);
    await set(jobs[0], 'running');
    await set(jobs[1], 'running');
    const finished = await set(jobs[0], 'success');
    expect(await finishMovesNothing(bed.deps, finished, shapeOf(jobs))).toBe(false);
  });

  it('does not skip a failure or a cancel (retries, when: on_failure / always)', async () => {
    for (const end of ['failed', 'canceled'] as const) {
      const { jobs, finished } = await twoRunning(end);
      expect(await finishMovesNothing(bed.deps, finished, shapeOf(jobs))).toBe(false);
    }
  });

  it('does not skip when a job needs the finished one', async () => {
    const { jobs, finished } = await twoRunning('success', [job('n', { stage: 1, needs: ['a'] })]);
    expect(await finishMovesNothing(bed.deps, finished, shapeOf(jobs))).toBe(false);
  });

  it('does not skip in a pipeline with a resource group or a bridge', async () => {
    for (const extra of [
      job('r', { stage: 1, resourceGroup: 'prod' }),
      job('t', { stage: 1, trigger: true }),
    ]) {
      const { jobs, finished } = await twoRunning('success', [extra]);
      expect(await finishMovesNothing(bed.deps, finished, shapeOf(jobs))).toBe(false);
    }
  });

  it('does not skip without a known shape', async () => {
    const { finished } = await twoRunning('success');
    expect(await finishMovesNothing(bed.deps, finished, undefined)).toBe(false);
  });

  it('keeps the first shape of a pipeline, bounded', () => {
    const shapes = new PipelineShapes(1);
    shapes.record(1, []);
    expect(shapes.get(1)).toEqual({ needed: new Set(), alwaysProcess: false });
    shapes.record(2, []);
    expect(shapes.get(1)).toBeUndefined();
    expect(shapes.get(2)).toBeDefined();
  });
});

describe('finishListing', () => {
  it('is quiet when another job of the stage still runs', async () => {
    const { jobs, finished } = await twoRunning('success');
    expect(await finishListing(bed.deps, finished, shapeOf(jobs))).toBe('quiet');
  });

  it("gives the pipeline's jobs, as listJobs does, for the last running job of the stage", async () => {
    const { jobs } = await twoRunning('success');
    const last = await set(jobs[1], 'success');
    const listed = await finishListing(bed.deps, last, shapeOf(jobs));
    const { items } = await bed.store.listJobs({ pipelineId: last.pipelineId });
    expect(listed).toEqual(items);
    await processPipeline(bed.deps, last.pipelineId, undefined, listed === 'quiet' ? undefined : listed);
    expect(await bed.store.getJob(jobs[2]?.id ?? -1)).toMatchObject({ status: 'pending' });
  });

  it('reads nothing when the definitions call for the full processing', async () => {
    const { finished } = await twoRunning('failed');
    expect(await finishListing(bed.deps, finished, undefined)).toBeUndefined();
  });
});
