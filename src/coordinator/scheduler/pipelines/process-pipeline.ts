/**
 * Moves a pipeline forward: applies job transitions until none is left, queues newly pending
 * jobs (waking matching runners), triggers pending bridges (child pipelines) and follows
 * `strategy: depend` ones, and derives the pipeline's status from its jobs.
 *
 * The pipeline's jobs are listed once per processing and kept current with its own writes
 * (`PipelineJobs`); they are listed again only after a bridge moved or a write did not apply.
 */
import type { JobStatus } from '../../../api/job-status.js';
import { jobKindOf, type JobPatch, type JobRecord, type PipelineRecord } from '../../store/store.js';
import { isBridge, syncDependentBridge, triggerBridge } from '../bridges/bridges.js';
import type { SchedulerDeps } from '../deps.js';
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

/** The round's writes grouped by patch: jobs with the same patch are written in one statement. */
function groupByPatch(
  jobs: readonly JobRecord[],
  transitions: readonly { jobId: number; to: JobStatus }[],
  now: Date,
): { ids: number[]; patch: JobPatch }[] {
  const groups = new Map<string, { ids: number[]; patch: JobPatch }>();
  for (const t of transitions) {
    const job = jobs.find((j) => j.id === t.jobId);
    if (!job) continue;
    const patch = patchFor(job, t.to, now);
    const key = `${t.to}:${patch.queuedAt?.getTime() ?? '-'}`;
    const group = groups.get(key);
    if (group) group.ids.push(job.id);
    else groups.set(key, { ids: [job.id], patch });
  }
  return [...groups.values()];
}

/**
 * Applies the planned transitions round by round. The jobs of a round that get the same patch
 * (e.g. every job of a new pipeline's first stage moving to `pending`) are written in one
 * set-based compare-and-set statement, one commit, rather than one statement each.
 */
async function applyTransitions(deps: SchedulerDeps, view: PipelineJobs): Promise<JobRecord[]> {
  const queued: JobRecord[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const jobs = [...(await view.jobs())];
    const transitions = planTransitions(jobs);
    if (transitions.length === 0) break;
    for (const { ids, patch } of groupByPatch(jobs, transitions, deps.clock.now())) {
      const written = await writeGroup(deps, ids, patch);
      for (const updated of written) {
        view.apply(updated);
        deps.onJobStatus?.(updated.status, 'created');
        if (updated.status === 'pending') queued.push(updated);
      }
      if (written.length < ids.length) view.apply(null);
    }
  }
  return queued;
}

/** One job: `updateJob` (its compiled template); several: one `updateJobs` statement. */
async function writeGroup(deps: SchedulerDeps, ids: number[], patch: JobPatch): Promise<JobRecord[]> {
  if (ids.length === 1) {
    const updated = await deps.store.updateJob(ids[0] as number, patch, ['created']);
    return updated ? [updated] : [];
  }
  return deps.store.updateJobs(ids, patch, ['created']);
}

/** Triggers pending bridges and syncs dependent ones; returns whether any changed and the new children. */
async function moveBridges(
  deps: SchedulerDeps,
  pipeline: () => Promise<PipelineRecord | null>,
  view: PipelineJobs,
): Promise<{ changed: boolean; children: number[] }> {
  const bridges = (await view.jobs()).filter((j) => jobKindOf(j.definition) === 'bridge');
  const children: number[] = [];
  let changed = false;
  for (const bridge of bridges) {
    if (bridge.status === 'pending') {
      const parent = await pipeline();
      if (!parent) continue;
      const child = await triggerBridge(deps, parent, bridge);
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

/**
 * Writes the status the jobs give, unless the pipeline has it already: one conditional write, no
 * read of the pipeline first. Returns the pipeline when it moved.
 */
async function updatePipelineStatus(
  deps: SchedulerDeps,
  pipelineId: number,
  jobs: readonly JobRecord[],
): Promise<PipelineRecord | null> {
  const status = pipelineStatusOf(jobs) ?? 'skipped';
  const moved = await deps.store.setPipelineStatus(pipelineId, status, deps.clock.now());
  if (moved) deps.logger.info({ pipelineId, status }, 'pipeline status changed');
  return moved;
}

/** Reads the pipeline once, when a bridge first needs it. */
function lazyPipeline(deps: SchedulerDeps, pipelineId: number): () => Promise<PipelineRecord | null> {
  let read: Promise<PipelineRecord | null> | undefined;
  return () => (read ??= deps.store.getPipeline(pipelineId));
}

/**
 * Processes one pipeline; returns the ids of OTHER pipelines to process in turn: those whose jobs
 * changed (a resource group freed here queued a job there), child pipelines created here, and the
 * parent pipeline when this child's status changed. `onListed` sees each listing of its jobs;
 * `listed` is the pipeline's visible jobs when the caller has just read them (not listed again).
 */
export async function processPipeline(
  deps: SchedulerDeps,
  pipelineId: number,
  onListed?: (jobs: readonly JobRecord[]) => void,
  listed?: readonly JobRecord[],
): Promise<number[]> {
  const others: number[] = [];
  const view = new PipelineJobs(deps.store, pipelineId, onListed, listed);
  // A pipeline with YAML errors has no jobs, and its status is not written (setPipelineStatus).
  const pipeline = lazyPipeline(deps, pipelineId);
  for (let round = 0; round < MAX_BRIDGE_ROUNDS; round++) {
    const queued = await applyTransitions(deps, view);
    deps.queue.jobsQueued(queued.filter((j) => !isBridge(j)));
    const bridges = await moveBridges(deps, pipeline, view);
    others.push(...bridges.children);
    if (!bridges.changed) break;
  }
  const assigned = await assignResources(deps, await view.jobs());
  for (const job of assigned) view.apply(job);
  others.push(...assigned.map((j) => j.pipelineId));
  const moved = await updatePipelineStatus(deps, pipelineId, await view.jobs());
  if (moved && moved.parentPipelineId !== null) others.push(moved.parentPipelineId);
  return [...new Set(others)].filter((id) => id !== pipelineId);
}
