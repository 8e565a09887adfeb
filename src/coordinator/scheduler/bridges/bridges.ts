/**
 * Bridges (trigger jobs) and their child pipelines, as GitLab runs them: a bridge never reaches a
 * runner. When it becomes `pending` the coordinator creates the child pipeline from its
 * `trigger:include` at the parent's sha and ref (`source` `parent_pipeline`). Without
 * `strategy: depend` the bridge succeeds once the child exists; with it the bridge stays `running`
 * and then mirrors the child's final status. A child that cannot be created (yaml errors, workflow
 * rules, nesting depth) fails the bridge with a failure reason and a one-line message in its log.
 */
import { ACTIVE_STATUSES, type FailureReason, type JobStatus } from '../../../api/job-status.js';
import { isFlotillaError } from '../../../shared/errors.js';
import type { JobRecord, PipelineRecord, ProjectRecord } from '../../store/store.js';
import { createPipeline } from '../pipelines/create-pipeline.js';
import type { SchedulerDeps } from '../deps.js';
import { downstreamVariables } from './downstream-variables.js';
import { resetSkippedAfter } from '../jobs/job-actions.js';
import { pipelineScopeVariables } from '../variables/pipeline-scope.js';
import { isRefProtected } from '../variables/variables.js';

/** Child statuses after a retry in the child (never `canceling`: a canceled parent cancels it). */
const RUNNING_AGAIN = new Set<string>(ACTIVE_STATUSES);

/** GitLab's limit: child pipelines nest at most two levels below the top-level pipeline. */
export const MAX_CHILD_DEPTH = 2;

export function isBridge(job: Pick<JobRecord, 'definition'>): boolean {
  return job.definition.trigger !== undefined;
}

export function isDependent(job: Pick<JobRecord, 'definition'>): boolean {
  return job.definition.trigger?.strategy === 'depend';
}

/** The final status a `strategy: depend` bridge takes from its child; null while the child is active. */
export function mirroredStatus(childStatus: string): JobStatus | null {
  if (childStatus === 'success') return 'success';
  if (childStatus === 'canceled') return 'canceled';
  // GitLab drops the bridge for a failed or skipped downstream pipeline.
  if (childStatus === 'failed' || childStatus === 'skipped') return 'failed';
  return null;
}

/** Number of parent pipelines above this one (0 for a top-level pipeline). */
async function depthOf(deps: SchedulerDeps, pipeline: PipelineRecord): Promise<number> {
  let depth = 0;
  let parentId = pipeline.parentPipelineId;
  while (parentId !== null && depth <= MAX_CHILD_DEPTH) {
    depth++;
    parentId = (await deps.store.getPipeline(parentId))?.parentPipelineId ?? null;
  }
  return depth;
}

async function scopeOf(deps: SchedulerDeps, project: ProjectRecord, pipeline: PipelineRecord) {
  const fullPath = `${project.namespacePath}/${project.path}`;
  const refProtected = isRefProtected(project, pipeline.ref, pipeline.tag);
  const vars = await pipelineScopeVariables(deps, project, pipeline, fullPath, refProtected);
  const scope: Record<string, string> = {};
  for (const v of [...vars.predefined, ...vars.projectVars]) scope[v.key] = v.value;
  return scope;
}

async function failBridge(
  deps: SchedulerDeps,
  bridge: JobRecord,
  reason: FailureReason,
  message: string,
): Promise<void> {
  const updated = await deps.store.updateJob(
    bridge.id,
    { status: 'failed', failureReason: reason, finishedAt: deps.clock.now() },
    ['running'],
  );
  if (!updated) return;
  deps.onJobStatus?.('failed', 'running');
  await deps.store.appendTrace(bridge.id, updated.traceSize, Buffer.from(`${message}\n`));
  deps.logger.warn({ jobId: bridge.id, pipelineId: bridge.pipelineId, reason }, message);
}

async function createChild(
  deps: SchedulerDeps,
  parent: PipelineRecord,
  project: ProjectRecord,
  bridge: JobRecord,
): Promise<PipelineRecord> {
  const trigger = bridge.definition.trigger;
  const variables = downstreamVariables({
    forward: trigger?.forward ?? { yamlVariables: true, pipelineVariables: false },
    globals: parent.yamlVariables,
    inherited: bridge.definition.inheritedGlobalVariables,
    jobVariables: bridge.definition.variables,
    pipelineVariables: parent.variables,
    scope: await scopeOf(deps, project, parent),
  });
  const { pipeline } = await createPipeline(deps, {
    project,
    ref: parent.ref,
    sha: parent.sha,
    beforeSha: parent.beforeSha,
    source: 'parent_pipeline',
    variables,
    userId: bridge.userId,
    child: {
      parentPipelineId: parent.id,
      parentJobId: bridge.id,
      include: trigger?.include ?? [],
      tag: parent.tag,
    },
  });
  return pipeline;
}

/**
 * Creates the child pipeline of a `pending` bridge and moves the bridge on; returns the child's id
 * (to process it) or null when none was created.
 */
export async function triggerBridge(
  deps: SchedulerDeps,
  parent: PipelineRecord,
  bridge: JobRecord,
): Promise<number | null> {
  const now = deps.clock.now();
  const started = await deps.store.updateJob(bridge.id, { status: 'running', startedAt: now }, ['pending']);
  if (!started) return null;
  deps.onJobStatus?.('running', 'pending');
  if ((await depthOf(deps, parent)) >= MAX_CHILD_DEPTH) {
    await failBridge(
      deps,
      started,
      'reached_max_descendant_pipelines_depth',
      `Downstream pipeline cannot be created: jobs:${bridge.name}:trigger would nest a child pipeline more than ${MAX_CHILD_DEPTH} levels below the top-level pipeline (GitLab's limit); trigger it from a pipeline higher up`,
    );
    return null;
  }
  let child: PipelineRecord;
  try {
    const project = await deps.store.getProject(parent.projectId);
    if (!project) throw new Error(`project ${parent.projectId} no longer exists`);
    child = await createChild(deps, parent, project, started);
  } catch (err) {
    // Whatever went wrong, the bridge must not stay running: it fails and says why.
    if (!isFlotillaError(err)) deps.logger.error({ err, jobId: bridge.id }, 'child pipeline creation failed');
    const details = isFlotillaError(err) ? describeDetails(err.details) : '';
    const message = `Downstream pipeline cannot be created: ${(err as Error).message}${details}`;
    await failBridge(deps, started, 'downstream_pipeline_creation_failed', message);
    return null;
  }
  if (child.yamlErrors) {
    await failBridge(
      deps,
      started,
      'downstream_pipeline_creation_failed',
      `Downstream pipeline #${child.id} has configuration errors: ${child.yamlErrors}`,
    );
    return child.id;
  }
  if (!isDependent(started)) {
    await deps.store.updateJob(bridge.id, { status: 'success', finishedAt: deps.clock.now() }, ['running']);
    deps.onJobStatus?.('success', 'running');
  }
  deps.logger.info(
    { jobId: bridge.id, pipelineId: parent.id, childPipelineId: child.id },
    'child pipeline created',
  );
  return child.id;
}

function describeDetails(details: Record<string, unknown> | undefined): string {
  const fields = (details?.['fields'] as { base?: string[] } | undefined)?.base;
  return fields && fields.length > 0 ? ` (${fields.join(', ')})` : '';
}

/** The newest child pipeline of a bridge. */
export async function childOf(deps: SchedulerDeps, bridge: JobRecord): Promise<PipelineRecord | null> {
  const { items } = await deps.store.listPipelines(
    bridge.projectId,
    { parentJobId: bridge.id },
    { page: 1, perPage: 1 },
  );
  return items[0] ?? null;
}

/**
 * A `strategy: depend` bridge follows its child: a final child status ends the bridge the same way;
 * a child that runs again (its jobs retried) puts a failed or canceled bridge back to `running`,
 * with the jobs skipped because of it, as GitLab resets the source bridge. Returns true on a change.
 */
export async function syncDependentBridge(deps: SchedulerDeps, bridge: JobRecord): Promise<boolean> {
  if (!isDependent(bridge) || bridge.retried) return false;
  if (bridge.status !== 'running' && bridge.status !== 'failed' && bridge.status !== 'canceled') return false;
  if (bridge.failureReason === 'downstream_pipeline_creation_failed') return false;
  if (bridge.failureReason === 'reached_max_descendant_pipelines_depth') return false;
  const child = await childOf(deps, bridge);
  if (!child) return false;
  const mirrored = mirroredStatus(child.status);
  if (bridge.status === 'running') {
    if (!mirrored) return false;
    const updated = await deps.store.updateJob(
      bridge.id,
      {
        status: mirrored,
        finishedAt: deps.clock.now(),
        failureReason: mirrored === 'failed' ? 'unknown_failure' : null,
      },
      ['running'],
    );
    if (updated) deps.onJobStatus?.(mirrored, 'running');
    return updated !== null;
  }
  if (!RUNNING_AGAIN.has(child.status)) return false;
  const reset = await deps.store.updateJob(
    bridge.id,
    { status: 'running', finishedAt: null, failureReason: null },
    ['failed', 'canceled'],
  );
  if (!reset) return false;
  await resetSkippedAfter(deps, [reset]);
  await deps.store.updatePipeline(bridge.pipelineId, { finishedAt: null });
  return true;
}
