/**
 * Moves a pipeline forward: applies job transitions until none is left, queues newly pending
 * jobs (waking matching runners), triggers pending bridges (child pipelines) and follows
 * `strategy: depend` ones, and derives the pipeline's status from its jobs.
 */
import { isCompleted, type JobStatus } from '../../api/job-status.js';
import type { JobPatch, JobRecord, PipelineRecord } from '../store/store.js';
import { isBridge, syncDependentBridge, triggerBridge } from './bridges.js';
import type { SchedulerDeps } from './deps.js';
import { pipelineStatusOf, planTransitions } from './plan-transitions.js';
import { assignResources } from './resource-groups.js';

const MAX_ROUNDS = 1000;
/** Rounds of transitions and bridge moves (a bridge that ends can unblock later jobs and bridges). */
const MAX_BRIDGE_ROUNDS = 50;

function patchFor(job: JobRecord, to: JobStatus, now: Date): JobPatch {
  const patch: JobPatch = { status: to };
  if (to === 'pending') patch.queuedAt = now;
  if (to === 'skipped') patch.finishedAt = null;
  if (to === 'scheduled')
    patch.queuedAt = new Date(now.getTime() + (job.definition.startInSeconds ?? 0) * 1000);
  return patch;
}

async function applyTransitions(deps: SchedulerDeps, pipelineId: number): Promise<JobRecord[]> {
  const queued: JobRecord[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { items: jobs } = await deps.store.listJobs({ pipelineId });
    const transitions = planTransitions(jobs);
    if (transitions.length === 0) break;
    const now = deps.clock.now();
    for (const t of transitions) {
      const job = jobs.find((j) => j.id === t.jobId);
      if (!job) continue;
      const updated = await deps.store.updateJob(t.jobId, patchFor(job, t.to, now), ['created']);
      if (updated) deps.onJobStatus?.(t.to, 'created');
      if (updated?.status === 'pending') queued.push(updated);
    }
  }
  return queued;
}

/** Triggers pending bridges and syncs dependent ones; returns whether any changed and the new children. */
async function moveBridges(
  deps: SchedulerDeps,
  pipeline: PipelineRecord,
): Promise<{ changed: boolean; children: number[] }> {
  const { items: bridges } = await deps.store.listJobs({ pipelineId: pipeline.id, kind: 'bridge' });
  const children: number[] = [];
  let changed = false;
  for (const bridge of bridges) {
    if (bridge.status === 'pending') {
      const child = await triggerBridge(deps, pipeline, bridge);
      if (child !== null) children.push(child);
      changed = true;
    } else if (await syncDependentBridge(deps, bridge)) {
      changed = true;
    }
  }
  return { changed, children };
}

async function updatePipelineStatus(deps: SchedulerDeps, pipeline: PipelineRecord): Promise<boolean> {
  const { items: jobs } = await deps.store.listJobs({ pipelineId: pipeline.id });
  const status = pipelineStatusOf(jobs) ?? 'skipped';
  if (status === pipeline.status) return false;
  const now = deps.clock.now();
  const startedAt = pipeline.startedAt ?? (status === 'running' ? now : null);
  const finishedAt = isCompleted(status) || status === 'manual' ? now : null;
  await deps.store.updatePipeline(pipeline.id, { status, startedAt, finishedAt });
  deps.logger.info({ pipelineId: pipeline.id, status, previous: pipeline.status }, 'pipeline status changed');
  return true;
}

/**
 * Processes one pipeline; returns the ids of OTHER pipelines to process in turn: those whose jobs
 * changed (a resource group freed here queued a job there), child pipelines created here, and the
 * parent pipeline when this child's status changed.
 */
export async function processPipeline(deps: SchedulerDeps, pipelineId: number): Promise<number[]> {
  const pipeline = await deps.store.getPipeline(pipelineId);
  if (!pipeline || pipeline.yamlErrors) return [];
  const others: number[] = [];
  for (let round = 0; round < MAX_BRIDGE_ROUNDS; round++) {
    const queued = await applyTransitions(deps, pipelineId);
    deps.queue.jobsQueued(queued.filter((j) => !isBridge(j)));
    const bridges = await moveBridges(deps, pipeline);
    others.push(...bridges.children);
    if (!bridges.changed) break;
  }
  const assigned = await assignResources(deps);
  others.push(...assigned.map((j) => j.pipelineId));
  const changed = await updatePipelineStatus(deps, (await deps.store.getPipeline(pipelineId)) ?? pipeline);
  if (changed && pipeline.parentPipelineId !== null) others.push(pipeline.parentPipelineId);
  return [...new Set(others)].filter((id) => id !== pipelineId);
}
