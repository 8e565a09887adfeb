/**
 * finishMovesNothing on a real (in-memory SQLite) store: when a finish may skip the listing, and
 * every case where it must not.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../shared/logger.js';
import { systemClock } from '../../../shared/clock.js';
import type { JobDefinition } from '../../../pipeline/types.js';
import { defaultCoordinatorConfig } from '../../config.js';
import { createTestStore } from '../../store/create-store.js';
import type { JobStatus } from '../../../api/job-status.js';
import type { JobRecord, NewJob, Store } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import type { RepositoryReader } from '../repository.js';
import { RunnerQueue } from '../queue/runner-queue.js';
import { processPipeline } from './process-pipeline.js';
import { finishMovesNothing, PipelineShapes, shapeOf } from './quiet-finish.js';

let store: Store;
let deps: SchedulerDeps;
let seq = 0;

beforeEach(async () => {
  store = await createTestStore();
  deps = {
    store,
    repos: {} as RepositoryReader,
    queue: new RunnerQueue(),
    clock: systemClock,
    logger: silentLogger(),
    config: defaultCoordinatorConfig({ externalUrl: 'http://127.0.0.1:1', artifactsDir: '/nonexistent' }),
  };
});

afterEach(async () => {
  await store.close();
});

interface Spec {
  stage?: number;
  needs?: string[];
  resourceGroup?: string;
  trigger?: boolean;
}

function job(name: string, spec: Spec = {}): NewJob {
  const stageIdx = spec.stage ?? 0;
  const definition = {
    name,
    baseName: name,
    stage: `s${stageIdx}`,
    stageIndex: stageIdx,
    script: ['true'],
    needs: spec.needs ? spec.needs.map((n) => ({ job: n, artifacts: true, optional: false })) : null,
    allowFailureExitCodes: [],
    resourceGroup: spec.resourceGroup ?? null,
    ...(spec.trigger ? { trigger: { project: 'x' } } : {}),
  } as unknown as JobDefinition;
  return {
    name,
    stage: `s${stageIdx}`,
    stageIdx,
    status: 'created',
    when: 'on_success',
    allowFailure: false,
    definition,
    tagList: [],
    protected: false,
    retryOfId: null,
    userId: 1,
  };
}

async function pipeline(jobs: NewJob[]): Promise<JobRecord[]> {
  seq += 1;
  const p = await store.createProject({
    name: `p${seq}`,
    path: `p${seq}`,
    namespacePath: 'group',
    description: null,
    defaultBranch: 'main',
    visibility: 'private',
    ciConfigPath: null,
    protectedBranches: ['main'],
    creatorId: 1,
  });
  const now = new Date();
  const created = await store.createPipeline(
    {
      projectId: p.id,
      ref: 'main',
      sha: 'a'.repeat(40),
      beforeSha: '0'.repeat(40),
      tag: false,
      source: 'push',
      status: 'running',
      yamlErrors: null,
      name: null,
      stages: ['s0', 's1'],
      yamlVariables: [],
      variables: [],
      userId: 1,
      createdAt: now,
      startedAt: now,
      finishedAt: null,
      committedAt: now,
    },
    jobs,
  );
  return created.jobs;
}

async function set(job: JobRecord | undefined, status: JobStatus): Promise<JobRecord> {
  const updated = await store.updateJob(job?.id ?? -1, { status });
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
    expect(await finishMovesNothing(deps, finished, shapeOf(jobs))).toBe(true);
    await processPipeline(deps, finished.pipelineId);
    expect(await store.getJob(jobs[2]?.id ?? -1)).toMatchObject({ status: 'created' });
    expect(await store.getPipeline(finished.pipelineId)).toMatchObject({ status: 'running' });
  });

  it('does not skip for the last running job of the stage', async () => {
    const { jobs, finished } = await twoRunning('success');
    const last = await set(jobs[1], 'success');
    expect(await finishMovesNothing(deps, last, shapeOf(jobs))).toBe(false);
    expect(finished.status).toBe('success');
  });

  it('does not skip when only a job of a later stage runs', async () => {
    const jobs = await pipeline([job('a'), job('d', { stage: 1, needs: [] })]);
    await set(jobs[0], 'running');
    await set(jobs[1], 'running');
    const finished = await set(jobs[0], 'success');
    expect(await finishMovesNothing(deps, finished, shapeOf(jobs))).toBe(false);
  });

  it('does not skip a failure or a cancel (retries, when: on_failure / always)', async () => {
    for (const end of ['failed', 'canceled'] as const) {
      const { jobs, finished } = await twoRunning(end);
      expect(await finishMovesNothing(deps, finished, shapeOf(jobs))).toBe(false);
    }
  });

  it('does not skip when a job needs the finished one', async () => {
    const { jobs, finished } = await twoRunning('success', [job('n', { stage: 1, needs: ['a'] })]);
    expect(await finishMovesNothing(deps, finished, shapeOf(jobs))).toBe(false);
  });

  it('does not skip in a pipeline with a resource group or a bridge', async () => {
    for (const extra of [
      job('r', { stage: 1, resourceGroup: 'prod' }),
      job('t', { stage: 1, trigger: true }),
    ]) {
      const { jobs, finished } = await twoRunning('success', [extra]);
      expect(await finishMovesNothing(deps, finished, shapeOf(jobs))).toBe(false);
    }
  });

  it('does not skip without a known shape', async () => {
    const { finished } = await twoRunning('success');
    expect(await finishMovesNothing(deps, finished, undefined)).toBe(false);
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
