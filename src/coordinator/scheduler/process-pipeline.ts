/**
 * Moves a pipeline forward: applies job transitions until none is left, queues newly pending
 * jobs (waking matching runners), triggers pending bridges (child pipelines) and follows
 * `strategy: depend` ones, and derives the pipeline's status from its jobs.
 *
 * The pipeline's jobs are listed once per processing and kept current with its own writes
 * (`PipelineJobs`); they are listed again only after a bridge moved or a write did not apply.
 */
import { isCompleted, type JobStatus } from '../../api/job-status.js';
import { jobKindOf, type JobPatch, type JobRecord, type PipelineRecord } from '../store/store.js';
import { isBridge, syncDependentBridge, triggerBridge } from './bridges.js';
import type { SchedulerDeps } from './deps.js';
import { PipelineJobs } from './pipeline-jobs.js';
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

async function applyTransitions(deps: SchedulerDeps, view: PipelineJobs): Promise<JobRecord[]> {
  const queued: JobRecord[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const jobs = [...(await view.jobs())];
    const transitions = planTransitions(jobs);
    if (transitions.length === 0) break;
    const now = deps.clock.now();
    for (const t of transitions) {
      const job = jobs.find((j) => j.id === t.jobId);
      if (!job) continue;
      const updated = await deps.store.updateJob(t.jobId, patchFor(job, t.to, now), ['created']);
      view.apply(updated);
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
  view: PipelineJobs,
): Promise<{ changed: boolean; children: number[] }> {
  const bridges = (await view.jobs()).filter((j) => jobKindOf(j.definition) === 'bridge');
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
  // The bridge moves write through their own paths: list the jobs again after any of them.
  if (changed) view.invalidate();
  return { changed, children };
}

async function updatePipelineStatus(
  deps: SchedulerDeps,
  pipeline: PipelineRecord,
  jobs: readonly JobRecord[],
): Promise<boolean> {
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
  const view = new PipelineJobs(deps.store, pipelineId);
  let bridgesMoved = false;
  for (let round = 0; round < MAX_BRIDGE_ROUNDS; round++) {
    const queued = await applyTransitions(deps, view);
    deps.queue.jobsQueued(queued.filter((j) => !isBridge(j)));
    const bridges = await moveBridges(deps, pipeline, view);
    others.push(...bridges.children);
    if (!bridges.changed) break;
    bridgesMoved = true;
  }
  const assigned = await assignResources(deps, await view.jobs());
  for (const job of assigned) view.apply(job);
  others.push(...assigned.map((j) => j.pipelineId));
  // Only a bridge's move (a child pipeline's processing) may have written this pipeline since it
  // was read above; jobs' writes never touch it.
  const current = bridgesMoved ? ((await deps.store.getPipeline(pipelineId)) ?? pipeline) : pipeline;
  const changed = await updatePipelineStatus(deps, current, await view.jobs());
  if (changed && pipeline.parentPipelineId !== null) others.push(pipeline.parentPipelineId);
  return [...new Set(others)].filter((id) => id !== pipelineId);
}
