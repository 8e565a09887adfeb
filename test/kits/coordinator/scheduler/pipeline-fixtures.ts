/**
 * Pipelines on a real (in-memory SQLite) store for the scheduler's unit tests: the scheduler's
 * dependencies, a job of a stage, a project and a pipeline of such jobs.
 */
import type { JobDefinition } from '../../../../src/pipeline/types.js';
import { silentLogger } from '../../../../src/shared/logger.js';
import { systemClock } from '../../../../src/shared/clock.js';
import { defaultCoordinatorConfig } from '../../../../src/coordinator/config.js';
import type { JobRecord, NewJob, PipelineRecord, Store } from '../../../../src/coordinator/store/store.js';
import type { SchedulerDeps } from '../../../../src/coordinator/scheduler/deps.js';
import type { RepositoryReader } from '../../../../src/coordinator/scheduler/repository.js';
import { RunnerQueue } from '../../../../src/coordinator/scheduler/queue/runner-queue.js';
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
