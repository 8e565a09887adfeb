/**
 * Periodic checks the coordinator runs itself: running jobs whose runner went silent fail with
 * `runner_system_failure`; jobs past their timeout fail with `job_execution_timeout`; `canceling`
 * jobs past the grace period become `canceled`; `scheduled` (delayed) jobs whose time came are queued.
 */
import type { JobRecord } from '../store/store.js';
import type { SchedulerDeps } from './deps.js';
import { afterFinish } from './after-finish.js';
import { failJob } from './job-actions.js';

export interface WatchdogActions {
  /** Called with the pipeline ids whose jobs changed. */
  changed(pipelineIds: number[]): Promise<void>;
}

async function checkRunning(deps: SchedulerDeps, now: number): Promise<JobRecord[]> {
  const staleBefore = new Date(now - deps.config.runnerStaleSeconds * 1000);
  const changed: JobRecord[] = [];
  for (const job of await deps.store.listStaleRunningJobs(staleBefore)) {
    const updated = await failJob(deps, job, 'runner_system_failure');
    if (updated) {
      await afterFinish(deps, updated);
      changed.push(updated);
    }
  }
  const { items: running } = await deps.store.listJobs({ statuses: ['running', 'canceling'] });
  for (const job of running) {
    const started = job.startedAt?.getTime() ?? now;
    if (job.status === 'running' && job.timeoutSeconds) {
      const limit = started + (job.timeoutSeconds + deps.config.timeoutGraceSeconds) * 1000;
      if (now > limit) {
        const updated = await failJob(deps, job, 'job_execution_timeout');
        if (updated) {
          await afterFinish(deps, updated);
          changed.push(updated);
        }
      }
    }
    if (job.status === 'canceling') {
      const since = job.lastSeenAt?.getTime() ?? started;
      if (now > since + deps.config.cancelGraceSeconds * 1000) {
        const updated = await deps.store.updateJob(
          job.id,
          { status: 'canceled', finishedAt: new Date(now), tokenHash: null },
          ['canceling'],
        );
        if (updated) changed.push(updated);
      }
    }
  }
  return changed;
}

async function checkScheduled(deps: SchedulerDeps, now: number): Promise<JobRecord[]> {
  const { items } = await deps.store.listJobs({ statuses: ['scheduled'] });
  const due = items.filter((j) => (j.queuedAt?.getTime() ?? 0) <= now);
  const queued: JobRecord[] = [];
  for (const job of due) {
    const updated = await deps.store.updateJob(job.id, { status: 'pending', queuedAt: new Date(now) }, [
      'scheduled',
    ]);
    if (updated) queued.push(updated);
  }
  deps.queue.jobsQueued(queued);
  return queued;
}

/** One pass; returns the pipelines whose jobs changed. */
export async function runWatchdog(deps: SchedulerDeps): Promise<number[]> {
  const now = deps.clock.now().getTime();
  const changed = [...(await checkRunning(deps, now)), ...(await checkScheduled(deps, now))];
  return [...new Set(changed.map((j) => j.pipelineId))];
}
