/**
 * processPipeline on a real (in-memory SQLite) store: resource groups across pipelines and
 * projects, and how many times a processing lists jobs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestStore } from '../../store/create-store.js';
import type { JobFilter, JobRecord, NewJob, Store } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import { afterClaim, MarkedRunning, markRunningAfterClaim } from '../queue/after-claim.js';
import { processPipeline } from './process-pipeline.js';
import { needsProcessingAfterClaim } from '../scheduler.js';
import {
  testJob,
  testPipeline,
  testProject,
  testSchedulerDeps,
} from '../../../../test/kits/coordinator/scheduler/pipeline-fixtures.js';

let store: Store;
let deps: SchedulerDeps;
let listed: JobFilter[];
let writes: string[];

beforeEach(async () => {
  const real = await createTestStore();
  listed = [];
  writes = [];
  // The real store, with its listJobs filters and its job and pipeline writes recorded.
  store = new Proxy(real, {
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
  // No bridge here: processing never reads the repository.
  deps = testSchedulerDeps(store);
});

afterEach(async () => {
  await store.close();
});

const job = (name: string, stage: number, resourceGroup: string | null = null): NewJob =>
  testJob(name, { stage, resourceGroup });

const project = (): Promise<number> => testProject(store);

async function pipeline(projectId: number, jobs: NewJob[]): Promise<{ id: number; jobs: JobRecord[] }> {
  const created = await testPipeline(store, projectId, jobs);
  return { id: created.pipeline.id, jobs: created.jobs };
}

async function statusOf(job: JobRecord): Promise<string | undefined> {
  return (await store.getJob(job.id))?.status;
}

describe('processPipeline', () => {
  it('lists a pipeline without resource groups once per processing', async () => {
    const p = await pipeline(await project(), [job('build', 0), job('test', 1)]);
    expect(await processPipeline(deps, p.id)).toEqual([]);
    expect(listed).toEqual([{ pipelineId: p.id }]);
    const [build, test] = p.jobs as [JobRecord, JobRecord];
    expect(await statusOf(build)).toBe('pending');
    expect(await statusOf(test)).toBe('created');
    expect((await store.getPipeline(p.id))?.status).toBe('pending');

    listed = [];
    await store.updateJob(build.id, { status: 'success', finishedAt: new Date() }, ['pending']);
    await processPipeline(deps, p.id);
    expect(listed).toEqual([{ pipelineId: p.id }]);
    expect(await statusOf(test)).toBe('pending');
    expect((await store.getPipeline(p.id))?.status).toBe('running');
  });

  it('hands a resource group to the oldest waiting job of the project, across pipelines', async () => {
    const projectId = await project();
    const first = await pipeline(projectId, [job('deploy', 0, 'prod')]);
    const second = await pipeline(projectId, [job('deploy', 0, 'prod')]);
    const [a] = first.jobs as [JobRecord];
    const [b] = second.jobs as [JobRecord];
    await processPipeline(deps, first.id);
    expect(await statusOf(a)).toBe('pending');
    expect(listed).toContainEqual({
      projectId,
      resourceGroups: ['prod'],
      statuses: ['waiting_for_resource', 'pending', 'running', 'canceling'],
    });

    expect(await processPipeline(deps, second.id)).toEqual([]);
    expect(await statusOf(b)).toBe('waiting_for_resource');

    // A group of the same name in another project is another group.
    const elsewhere = await pipeline(await project(), [job('deploy', 0, 'prod')]);
    await processPipeline(deps, elsewhere.id);
    expect(await statusOf(elsewhere.jobs[0] as JobRecord)).toBe('pending');
    expect(await statusOf(b)).toBe('waiting_for_resource');

    await store.updateJob(a.id, { status: 'success', finishedAt: new Date() }, ['pending']);
    expect(await processPipeline(deps, first.id)).toEqual([second.id]);
    expect(await statusOf(b)).toBe('pending');
    expect((await store.getPipeline(first.id))?.status).toBe('success');
  });

  it('keeps a group held by a running job of another pipeline', async () => {
    const projectId = await project();
    const holder = await pipeline(projectId, [job('deploy', 0, 'prod')]);
    await processPipeline(deps, holder.id);
    await store.updateJob((holder.jobs[0] as JobRecord).id, { status: 'running' }, ['pending']);
    const other = await pipeline(projectId, [job('build', 0), job('deploy', 1, 'prod'), job('x', 1, 'qa')]);
    await processPipeline(deps, other.id);
    const [build, deploy, x] = other.jobs as [JobRecord, JobRecord, JobRecord];
    await store.updateJob(build.id, { status: 'success', finishedAt: new Date() }, ['pending']);
    listed = [];
    await processPipeline(deps, other.id);
    expect(await statusOf(deploy)).toBe('waiting_for_resource');
    expect(await statusOf(x)).toBe('pending');
    expect(listed.filter((f) => f.resourceGroups !== undefined)).toEqual([
      {
        projectId,
        resourceGroups: ['prod', 'qa'],
        statuses: ['waiting_for_resource', 'pending', 'running', 'canceling'],
      },
    ]);
    expect((await store.getPipeline(other.id))?.status).toBe('running');
  });

  it('changes nothing after a job of a running pipeline starts (claims skip that processing)', async () => {
    const p = await pipeline(await project(), [job('a', 0), job('b', 0), job('test', 1)]);
    await processPipeline(deps, p.id);
    const [a, b] = p.jobs as [JobRecord, JobRecord];
    const started = await store.updateJob(a.id, { status: 'running', startedAt: new Date() }, ['pending']);
    expect(
      needsProcessingAfterClaim({ job: started!, payload: {} as never, pipelineStatus: 'pending' }),
    ).toBe(true);
    await processPipeline(deps, p.id);
    expect((await store.getPipeline(p.id))?.status).toBe('running');

    const second = await store.updateJob(b.id, { status: 'running', startedAt: new Date() }, ['pending']);
    expect(needsProcessingAfterClaim({ job: second!, payload: {} as never, pipelineStatus: 'running' })).toBe(
      false,
    );
    writes = [];
    expect(await processPipeline(deps, p.id)).toEqual([]);
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
    await processPipeline(deps, p.id);
    const [a] = p.jobs as [JobRecord];
    await store.updateJob(a.id, { status: 'running', startedAt: new Date() }, ['pending']);
    const read = await store.getPipeline(p.id);
    expect(read?.status).toBe('pending');
    listed = [];
    writes = [];
    expect(await markRunningAfterClaim(deps, read!)).toEqual([]);
    expect(listed).toEqual([]);
    expect(writes).toEqual(['updatePipeline']);
    const after = await store.getPipeline(p.id);
    expect(after).toMatchObject({ status: 'running', finishedAt: null });
    expect(after?.startedAt).not.toBeNull();
    // What a full processing would have written: nothing more.
    writes = [];
    await processPipeline(deps, p.id);
    expect(writes).toEqual([]);
    // A pipeline that moved since it was read is not written: the caller processes it in full.
    expect(await markRunningAfterClaim(deps, read!)).toBeNull();
  });

  it('after two claims that read the pipeline pending, the second write does not apply and no job list follows', async () => {
    const p = await pipeline(await project(), [job('a', 0), job('b', 0)]);
    await processPipeline(deps, p.id);
    const [a, b] = p.jobs as [JobRecord, JobRecord];
    await store.updateJob(a.id, { status: 'running', startedAt: new Date() }, ['pending']);
    await store.updateJob(b.id, { status: 'running', startedAt: new Date() }, ['pending']);
    const read = await store.getPipeline(p.id);
    listed = [];
    writes = [];
    expect(await afterClaim(deps, read!)).toEqual([]);
    expect(await afterClaim(deps, read!)).toEqual([]);
    expect(writes).toEqual(['updatePipeline', 'updatePipeline']);
    expect(listed).toEqual([]);
    expect((await store.getPipeline(p.id))?.status).toBe('running');
    // Moved elsewhere (a cancel): the full processing decides.
    await store.updatePipeline(p.id, { status: 'canceling' });
    listed = [];
    await afterClaim(deps, read!);
    expect(listed).toHaveLength(1);
    expect((await store.getPipeline(p.id))?.status).toBe('running');
  });

  it('a pipeline this process marked running that a cancel moved since the claim read it is processed in full, not marked running again', async () => {
    const p = await pipeline(await project(), [job('a', 0)]);
    await processPipeline(deps, p.id);
    const [a] = p.jobs as [JobRecord];
    await store.updateJob(a.id, { status: 'running', startedAt: new Date() }, ['pending']);
    const read = await store.getPipeline(p.id);
    const marked = new MarkedRunning();
    marked.add(p.id);
    await store.updateJob(a.id, { status: 'canceling' });
    await store.updatePipeline(p.id, { status: 'canceling' });
    listed = [];
    await afterClaim(deps, read!, marked);
    expect(listed).toHaveLength(1);
    expect((await store.getPipeline(p.id))?.status).toBe('canceling');
  });
});
