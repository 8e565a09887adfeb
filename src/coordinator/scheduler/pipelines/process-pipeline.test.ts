/**
 * processPipeline on a real (in-memory SQLite) store: resource groups across pipelines and
 * projects, and how many times a processing lists jobs.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { JobFilter, JobRecord, NewJob, Store } from '../../store/store.js';
import { afterClaim, MarkedRunning, markRunningAfterClaim } from '../queue/after-claim.js';
import { processPipeline } from './process-pipeline.js';
import { needsProcessingAfterClaim } from '../scheduler.js';
import {
  testJob,
  testPipeline,
  testProject,
  useSchedulerTestBed,
} from '../../../../test/kits/coordinator/scheduler/pipeline-fixtures.js';

let listed: JobFilter[];
let writes: string[];

/** The real store, with its listJobs filters and its job and pipeline writes recorded. */
function recording(real: Store): Store {
  return new Proxy(real, {
    get(target, key, receiver) {
      if (key === 'listJobs') {
        return (filter: JobFilter, page?: Parameters<Store['listJobs']>[1]) => {
          listed.push(filter);
          return target.listJobs(filter, page);
        };
      }
      if (key === 'updateJob' || key === 'updatePipeline') writes.push(key);
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// No bridge here: processing never reads the repository.
const bed = useSchedulerTestBed(recording);

beforeEach(() => {
  listed = [];
  writes = [];
});

const job = (name: string, stage: number, resourceGroup: string | null = null): NewJob =>
  testJob(name, { stage, resourceGroup });

const project = (): Promise<number> => testProject(bed.store);

async function pipeline(projectId: number, jobs: NewJob[]): Promise<{ id: number; jobs: JobRecord[] }> {
  const created = await testPipeline(bed.store, projectId, jobs);
  return { id: created.pipeline.id, jobs: created.jobs };
}

async function statusOf(job: JobRecord): Promise<string | undefined> {
  return (await bed.store.getJob(job.id))?.status;
}

describe('processPipeline', () => {
  it('lists a pipeline without resource groups once per processing', async () => {
    const p = await pipeline(await project(), [job('build', 0), job('test', 1)]);
    expect(await processPipeline(bed.deps, p.id)).toEqual([]);
    expect(listed).toEqual([{ pipelineId: p.id }]);
    const [build, test] = p.jobs as [JobRecord, JobRecord];
    expect(await statusOf(build)).toBe('pending');
    expect(await statusOf(test)).toBe('created');
    expect((await bed.store.getPipeline(p.id))?.status).toBe('pending');

    listed = [];
    await bed.store.updateJob(build.id, { status: 'success', finishedAt: new Date() }, ['pending']);
    await processPipeline(bed.deps, p.id);
    expect(listed).toEqual([{ pipelineId: p.id }]);
    expect(await statusOf(test)).toBe('pending');
    expect((await bed.store.getPipeline(p.id))?.status).toBe('running');
  });

  it('hands a resource group to the oldest waiting job of the project, across pipelines', async () => {
    const projectId = await project();
    const first = await pipeline(projectId, [job('deploy', 0, 'prod')]);
    const second = await pipeline(projectId, [job('deploy', 0, 'prod')]);
    const [a] = first.jobs as [JobRecord];
    const [b] = second.jobs as [JobRecord];
    await processPipeline(bed.deps, first.id);
    expect(await statusOf(a)).toBe('pending');
    expect(listed).toContainEqual({
      projectId,
      resourceGroups: ['prod'],
      statuses: ['waiting_for_resource', 'pending', 'running', 'canceling'],
    });

    expect(await processPipeline(bed.deps, second.id)).toEqual([]);
    expect(await statusOf(b)).toBe('waiting_for_resource');

    // A group of the same name in another project is another group.
    const elsewhere = await pipeline(await project(), [job('deploy', 0, 'prod')]);
    await processPipeline(bed.deps, elsewhere.id);
    expect(await statusOf(elsewhere.jobs[0] as JobRecord)).toBe('pending');
    expect(await statusOf(b)).toBe('waiting_for_resource');

    await bed.store.updateJob(a.id, { status: 'success', finishedAt: new Date() }, ['pending']);
    expect(await processPipeline(bed.deps, first.id)).toEqual([second.id]);
    expect(await statusOf(b)).toBe('pending');
    expect((await bed.store.getPipeline(first.id))?.status).toBe('success');
  });

  it('keeps a group held by a running job of another pipeline', async () => {
    const projectId = await project();
    const holder = await pipeline(projectId, [job('deploy', 0, 'prod')]);
    await processPipeline(bed.deps, holder.id);
    await bed.store.updateJob((holder.jobs[0] as JobRecord).id, { status: 'running' }, ['pending']);
    const other = await pipeline(projectId, [job('build', 0), job('deploy', 1, 'prod'), job('x', 1, 'qa')]);
    await processPipeline(bed.deps, other.id);
    const [build, deploy, x] = other.jobs as [JobRecord, JobRecord, JobRecord];
    await bed.store.updateJob(build.id, { status: 'success', finishedAt: new Date() }, ['pending']);
    listed = [];
    await processPipeline(bed.deps, other.id);
    expect(await statusOf(deploy)).toBe('waiting_for_resource');
    expect(await statusOf(x)).toBe('pending');
    expect(listed.filter((f) => f.resourceGroups !== undefined)).toEqual([
      {
        projectId,
        resourceGroups: ['prod', 'qa'],
        statuses: ['waiting_for_resource', 'pending', 'running', 'canceling'],
      },
    ]);
    expect((await bed.store.getPipeline(other.id))?.status).toBe('running');
  });

  it('changes nothing after a job of a running pipeline starts (claims skip that processing)', async () => {
    const p = await pipeline(await project(), [job('a', 0), job('b', 0), job('test', 1)]);
    await processPipeline(bed.deps, p.id);
    const [a, b] = p.jobs as [JobRecord, JobRecord];
    const started = await bed.store.updateJob(a.id, { status: 'running', startedAt: new Date() }, [
      'pending',
    ]);
    expect(
      needsProcessingAfterClaim({ job: started!, payload: {} as never, pipelineStatus: 'pending' }),
    ).toBe(true);
    await processPipeline(bed.deps, p.id);
    expect((await bed.store.getPipeline(p.id))?.status).toBe('running');

    const second = await bed.store.updateJob(b.id, { status: 'running', startedAt: new Date() }, ['pending']);
    expect(needsProcessingAfterClaim({ job: second!, payload: {} as never, pipelineStatus: 'running' })).toBe(
      false,
    );
    writes = [];
    expect(await processPipeline(bed.deps, p.id)).toEqual([]);
    expect(writes).toEqual([]);
    const withEnvironment = {
      ...second!,
      definition: { ...second!.definition, environment: { name: 'prod' } },
    };
    expect(
      needsProcessingAfterClaim({
        job: withEnvironment as JobRecord,
        payload: {} as never,
        pipelineStatus: 'running',
      }),
    ).toBe(true);
  });

  it('after a claim, marks the pipeline running with one compare-and-set write and no job list', async () => {
    const p = await pipeline(await project(), [job('a', 0), job('b', 0), job('test', 1)]);
    await processPipeline(bed.deps, p.id);
    const [a] = p.jobs as [JobRecord];
    await bed.store.updateJob(a.id, { status: 'running', startedAt: new Date() }, ['pending']);
    const read = await bed.store.getPipeline(p.id);
    expect(read?.status).toBe('pending');
    listed = [];
    writes = [];
    expect(await markRunningAfterClaim(bed.deps, read!)).toEqual([]);
    expect(listed).toEqual([]);
    expect(writes).toEqual(['updatePipeline']);
    const after = await bed.store.getPipeline(p.id);
    expect(after).toMatchObject({ status: 'running', finishedAt: null });
    expect(after?.startedAt).not.toBeNull();
    // What a full processing would have written: nothing more.
    writes = [];
    await processPipeline(bed.deps, p.id);
    expect(writes).toEqual([]);
    // A pipeline that moved since it was read is not written: the caller processes it in full.
    expect(await markRunningAfterClaim(bed.deps, read!)).toBeNull();
  });

  it('after a claim that read the pipeline created while its processing wrote pending, marks it running in one write', async () => {
    const p = await pipeline(await project(), [job('a', 0), job('test', 1)]);
    // The claim was woken by the queueing and read the pipeline before its status was written.
    const read = await bed.store.getPipeline(p.id);
    expect(read?.status).toBe('created');
    await processPipeline(bed.deps, p.id);
    const [a] = p.jobs as [JobRecord];
    await bed.store.updateJob(a.id, { status: 'running', startedAt: new Date() }, ['pending']);
    expect((await bed.store.getPipeline(p.id))?.status).toBe('pending');
    listed = [];
    writes = [];
    expect(await afterClaim(bed.deps, read!)).toEqual([]);
    expect(writes).toEqual(['updatePipeline']);
    expect(listed).toEqual([]);
    expect((await bed.store.getPipeline(p.id))?.status).toBe('running');
  });

  it('after two claims that read the pipeline pending, the second write does not apply and no job list follows', async () => {
    const p = await pipeline(await project(), [job('a', 0), job('b', 0)]);
    await processPipeline(bed.deps, p.id);
    const [a, b] = p.jobs as [JobRecord, JobRecord];
    await bed.store.updateJob(a.id, { status: 'running', startedAt: new Date() }, ['pending']);
    await bed.store.updateJob(b.id, { status: 'running', startedAt: new Date() }, ['pending']);
    const read = await bed.store.getPipeline(p.id);
    listed = [];
    writes = [];
    expect(await afterClaim(bed.deps, read!)).toEqual([]);
    expect(await afterClaim(bed.deps, read!)).toEqual([]);
    expect(writes).toEqual(['updatePipeline', 'updatePipeline']);
    expect(listed).toEqual([]);
    expect((await bed.store.getPipeline(p.id))?.status).toBe('running');
    // Moved elsewhere (a cancel): the full processing decides.
    await bed.store.updatePipeline(p.id, { status: 'canceling' });
    listed = [];
    await afterClaim(bed.deps, read!);
    expect(listed).toHaveLength(1);
    expect((await bed.store.getPipeline(p.id))?.status).toBe('running');
  });

  it('a pipeline this process marked running that a cancel moved since the claim read it is processed in full, not marked running again', async () => {
    const p = await pipeline(await project(), [job('a', 0)]);
    await processPipeline(bed.deps, p.id);
    const [a] = p.jobs as [JobRecord];
    await bed.store.updateJob(a.id, { status: 'running', startedAt: new Date() }, ['pending']);
    const read = await bed.store.getPipeline(p.id);
    const marked = new MarkedRunning();
    marked.add(p.id);
    await bed.store.updateJob(a.id, { status: 'canceling' });
    await bed.store.updatePipeline(p.id, { status: 'canceling' });
    listed = [];
    await afterClaim(bed.deps, read!, marked);
    expect(listed).toHaveLength(1);
    expect((await bed.store.getPipeline(p.id))?.status).toBe('canceling');
  });
});
