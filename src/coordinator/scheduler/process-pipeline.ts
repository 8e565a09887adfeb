/**
 * Moves a pipeline forward: applies job transitions until none is left, queues newly pending
 * jobs (waking matching runners) and derives the pipeline's status from its jobs.
 */
import { isCompleted, type JobStatus } from '../../api/job-status.js';
import type { JobPatch, JobRecord, PipelineRecord } from '../store/store.js';
import type { SchedulerDeps } from './deps.js';
import { pipelineStatusOf, planTransitions } from './plan-transitions.js';
import { assignResources } from './resource-groups.js';

const MAX_ROUNDS = 1000;

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

async function updatePipelineStatus(deps: SchedulerDeps, pipeline: PipelineRecord): Promise<void> {
  const { items: jobs } = await deps.store.listJobs({ pipelineId: pipeline.id });
  const status = pipelineStatusOf(jobs) ?? 'skipped';
  if (status === pipeline.status) return;
  const now = deps.clock.now();
  const startedAt = pipeline.startedAt ?? (status === 'running' ? now : null);
  const finishedAt = isCompleted(status) || status === 'manual' ? now : null;
  await deps.store.updatePipeline(pipeline.id, { status, startedAt, finishedAt });
  deps.logger.info({ pipelineId: pipeline.id, status, previous: pipeline.status }, 'pipeline status changed');
}

/**
 * Processes one pipeline; returns the ids of OTHER pipelines whose jobs changed (a resource group
 * freed here queued a job there), which the caller processes in turn.
 */
export async function processPipeline(deps: SchedulerDeps, pipelineId: number): Promise<number[]> {
  const pipeline = await deps.store.getPipeline(pipelineId);
  if (!pipeline || pipeline.yamlErrors) return [];
  const queued = await applyTransitions(deps, pipelineId);
  deps.queue.jobsQueued(queued);
  const assigned = await assignResources(deps);
  await updatePipelineStatus(deps, (await deps.store.getPipeline(pipelineId)) ?? pipeline);
  return [...new Set(assigned.map((j) => j.pipelineId))].filter((id) => id !== pipelineId);
}
