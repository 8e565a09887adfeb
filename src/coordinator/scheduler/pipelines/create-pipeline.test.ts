/**
 * Pipeline creation on a real (in-memory SQLite) store, from a real `.gitlab-ci.yml` compiled by
 * the pipeline engine: the jobs' stage ranks, and what a claim then reads.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newProject, newRunner } from '../../../../test/kits/coordinator/store/conformance.js';
import { systemClock } from '../../../shared/clock.js';
import { silentLogger } from '../../../shared/logger.js';
import { defaultCoordinatorConfig } from '../../config.js';
import { createMemoryStore } from '../../store/create-store.js';
import type { JobFilter, ProjectRecord, Store } from '../../store/store.js';
import { RunnerQueue } from '../queue/runner-queue.js';
import type { RepositoryReader } from '../repository.js';
import { Scheduler } from '../scheduler.js';

const SHA = 'a'.repeat(40);
let real: Store;
let listed: JobFilter[];
let config: string;
let scheduler: Scheduler;
let project: ProjectRecord;

beforeEach(async () => {
  real = await createMemoryStore();
  listed = [];
  const store = new Proxy(real, {
    get(target, key, receiver) {
      if (key === 'listJobs') {
        return (filter: JobFilter, page?: Parameters<Store['listJobs']>[1]) => {
          listed.push(filter);
          return target.listJobs(filter, page);
        };
      }
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const repos = {
    resolveRef: () => Promise.resolve(SHA),
    refType: () => Promise.resolve('branch'),
    readFile: () => Promise.resolve(config),
    commitInfo: () => Promise.resolve(null),
    createPipelineRef: () => Promise.resolve(),
  } as unknown as RepositoryReader;
  scheduler = new Scheduler({
    store,
    repos,
    queue: new RunnerQueue(),
    clock: systemClock,
    logger: silentLogger(),
    config: defaultCoordinatorConfig({ externalUrl: 'http://127.0.0.1:1', artifactsDir: '/nonexistent' }),
  });
  project = await real.createProject(newProject());
});

afterEach(async () => {
  await real.close();
});

async function create(yaml: string) {
  config = yaml;
  const pipeline = await scheduler.createPipeline({
    project,
    ref: 'main',
    source: 'push',
    variables: [],
    userId: 1,
  });
  return { pipeline, jobs: (await real.listJobs({ pipelineId: pipeline.id })).items };
}

describe('stage ranks', () => {
  it('numbers stages among those with jobs, keeping their order', async () => {
    const { jobs } = await create(
      'stages: [build, test, deploy]\nt:\n  stage: test\n  script: [x]\nd:\n  stage: deploy\n  script: [x]\n',
    );
    expect(jobs.map((j) => [j.name, j.stage, j.stageIdx])).toEqual([
      ['t', 'test', 0],
      ['d', 'deploy', 1],
    ]);
  });

  it('lets a claim of a job in the first stage with jobs skip listing the pipeline', async () => {
    await create('stages: [build, test]\nt:\n  stage: test\n  script: [x]\n');
    const runner = await real.createRunner(newRunner('hash-1'));
    listed = [];
    const first = await scheduler.claim(runner, 's_1');
    expect(first?.job.name).toBe('t');
    expect(listed.filter((f) => f.pipelineId !== undefined && f.statuses === undefined)).toEqual([]);

    await create('b:\n  stage: build\n  script: [x]\nt:\n  stage: test\n  script: [x]\n');
    const build = await scheduler.claim(runner, 's_1');
    expect(build?.job.name).toBe('b');
    expect(build?.payload.dependencies).toEqual([]);
  });
});

describe('first processing of a new pipeline', () => {
  const twoStages = 'b:\n  stage: build\n  script: [x]\nt:\n  stage: test\n  script: [x]\n';

  it('starts from the jobs the creation stored: no listing, first stage pending', async () => {
    listed = [];
    const { pipeline, jobs } = await create(twoStages);
    expect(listed).toEqual([]);
    expect(pipeline.status).toBe('pending');
    expect(jobs.map((j) => [j.name, j.status])).toEqual([
      ['b', 'pending'],
      ['t', 'created'],
    ]);
    expect(jobs[0]?.queuedAt).toBeInstanceOf(Date);
  });

  it('still syncs the deployments of a pipeline with an environment job', async () => {
    listed = [];
    await create('deploy:\n  stage: deploy\n  script: [x]\n  environment: production\n');
    expect(listed.filter((f) => f.includeRetried === true)).toHaveLength(1);
  });

  it('lists the jobs again when one moved before the processing (a write that did not apply)', async () => {
    // The creation's own jobs are stale for the processing when another writer moved one first.
    const original = real.createPipeline.bind(real);
    real.createPipeline = async (p, j) => {
      const created = await original(p, j);
      const first = created.jobs[0];
      if (first) await real.updateJob(first.id, { status: 'canceled' }, ['created']);
      return created;
    };
    listed = [];
    const { pipeline, jobs } = await create(twoStages);
    expect(listed.filter((f) => f.pipelineId === pipeline.id && f.includeRetried !== true)).toHaveLength(1);
    expect(jobs.map((j) => [j.name, j.status])).toEqual([
      ['b', 'canceled'],
      ['t', 'skipped'],
    ]);
    expect(pipeline.status).toBe('canceled');
  });
});
