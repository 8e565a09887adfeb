/**
 * Pipelines on a real (in-memory SQLite) store for the scheduler's unit tests: a fresh store and the
 * scheduler's dependencies for each test, a job of a stage, a project and a pipeline of such jobs.
 */
import { afterEach, beforeEach } from 'vitest';

import type { JobDefinition } from '../../../../src/pipeline/types.js';
import { silentLogger } from '../../../../src/shared/logger.js';
import { systemClock } from '../../../../src/shared/clock.js';
import { defaultCoordinatorConfig } from '../../../../src/coordinator/config.js';
import type { JobRecord, NewJob, PipelineRecord, Store } from '../../../../src/coordinator/store/store.js';
import type { SchedulerDeps } from '../../../../src/coordinator/scheduler/deps.js';
import type { RepositoryReader } from '../../../../src/coordinator/scheduler/repository.js';
import { RunnerQueue } from '../../../../src/coordinator/scheduler/queue/runner-queue.js';
import { createMemoryStore } from '../../../../src/coordinator/store/create-store.js';
import { newJob, newPipeline, newProject } from '../store/conformance.js';

/** The scheduler's dependencies around `store`; no bridge may run (the repository reader is empty). */
export function testSchedulerDeps(store: Store): SchedulerDeps {
  return {
    store,
    repos: {} as RepositoryReader,
    queue: new RunnerQueue(),
    clock: systemClock,
    logger: silentLogger(),
    config: defaultCoordinatorConfig({ externalUrl: 'http://127.0.0.1:1', artifactsDir: '/nonexistent' }),
  };
}

/** The current test's store and the scheduler's dependencies around it. */
export interface SchedulerTestBed {
  readonly store: Store;
  readonly deps: SchedulerDeps;
}

/**
 * Before each test of the calling file, a fresh in-memory store (seen through `wrap`, e.g. a
 * recording proxy) and `testSchedulerDeps` around it; the store is closed after the test.
 */
export function useSchedulerTestBed(wrap: (store: Store) => Store = (store) => store): SchedulerTestBed {
  let current: { store: Store; deps: SchedulerDeps } | undefined;
  beforeEach(async () => {
    const store = wrap(await createMemoryStore());
    current = { store, deps: testSchedulerDeps(store) };
  });
  afterEach(async () => {
    await current?.store.close();
    current = undefined;
  });
  const now = (): { store: Store; deps: SchedulerDeps } => {
    if (!current) throw new Error('the scheduler test bed is only there while a test runs');
    return current;
  };
  return {
    get store() {
      return now().store;
    },
    get deps() {
      return now().deps;
    },
  };
}

export interface TestJobSpec {
  stage?: number;
  needs?: string[];
  resourceGroup?: string | null;
  trigger?: boolean;
}

/** A `created` job of stage `s<stage>` whose script is `true`. */
export function testJob(name: string, spec: TestJobSpec = {}): NewJob {
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
  return newJob(name, { stage: `s${stageIdx}`, stageIdx, definition });
}

let projects = 0;

/** A new private project; resolves its id. */
export async function testProject(store: Store): Promise<number> {
  projects += 1;
  const path = `p${projects}`;
  const p = await store.createProject(
    newProject({
      name: path,
      path,
      namespacePath: 'group',
      visibility: 'private',
      protectedBranches: ['main'],
    }),
  );
  return p.id;
}

/** A push pipeline of `jobs` (stages s0 and s1, no variables) in `status`. */
export async function testPipeline(
  store: Store,
  projectId: number,
  jobs: NewJob[],
  status: 'created' | 'running' = 'created',
): Promise<{ pipeline: PipelineRecord; jobs: JobRecord[] }> {
  const now = new Date();
  const pipeline = newPipeline(projectId, {
    status,
    stages: ['s0', 's1'],
    yamlVariables: [],
    variables: [],
    createdAt: now,
    startedAt: status === 'running' ? now : null,
    committedAt: now,
  });
  return store.createPipeline(pipeline, jobs);
}
