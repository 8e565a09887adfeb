/**
 * Auto-cancel of redundant pipelines (GitLab's `interruptible` and
 * `workflow:auto_cancel:on_new_commit`): when a new pipeline starts on a branch, older unfinished
 * pipelines of that branch are canceled.
 * - `conservative` (default): only pipelines where no non-interruptible job has started yet;
 *   their unstarted jobs and running interruptible jobs are canceled.
 * - `interruptible`: in every older pipeline, only interruptible jobs are canceled.
 * - `none`: nothing.
 */
import { ACTIVE_STATUSES } from '../../../api/job-status.js';
import type { JobRecord, PipelineRecord } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import { cancelJob } from '../jobs/job-actions.js';

const STARTED = new Set(['running', 'success', 'failed', 'canceling', 'canceled']);
const UNSTARTED = new Set(['created', 'pending', 'waiting_for_resource', 'scheduled', 'manual']);

function cancelable(job: JobRecord, mode: string): boolean {
  if (mode === 'interruptible')
    return job.definition.interruptible && (UNSTARTED.has(job.status) || job.status === 'running');
  return UNSTARTED.has(job.status) || (job.status === 'running' && job.definition.interruptible);
}

/** Returns the ids of pipelines whose jobs were canceled. */
export async function cancelRedundant(
  deps: SchedulerDeps,
  fresh: PipelineRecord,
  mode: string,
): Promise<number[]> {
  if (mode === 'none' || fresh.tag) return [];
  const changed: number[] = [];
  for (const status of ACTIVE_STATUSES) {
    const { items } = await deps.store.listPipelines(
      fresh.projectId,
      { ref: fresh.ref, status },
      { page: 1, perPage: 100 },
    );
    for (const old of items.filter((p) => p.id < fresh.id && !p.tag)) {
      const { items: jobs } = await deps.store.listJobs({ pipelineId: old.id });
      const blocked = jobs.some((j) => STARTED.has(j.status) && !j.definition.interruptible);
      if (mode === 'conservative' && blocked) continue;
      const targets = jobs.filter((j) => cancelable(j, mode));
      for (const job of targets) await cancelJob(deps, job);
      if (targets.length > 0) {
        changed.push(old.id);
        deps.logger.info(
          { pipelineId: old.id, newPipelineId: fresh.id, jobs: targets.length },
          'redundant pipeline auto-canceled',
        );
      }
    }
  }
  return changed;
}
