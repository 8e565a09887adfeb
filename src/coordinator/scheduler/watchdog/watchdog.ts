/**
 * Periodic checks the coordinator runs itself: running jobs whose runner went silent fail with
 * `runner_system_failure`; jobs past their timeout fail with `job_execution_timeout`; `canceling`
 * jobs past the grace period become `canceled`; `scheduled` (delayed) jobs whose time came are queued.
 */
import type { FailureReason } from '../../../api/job-status.js';
import type { JobRecord } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import { afterFinish } from '../jobs/after-finish.js';
import { failJob } from '../jobs/job-actions.js';

export interface WatchdogActions {
  /** Called with the pipeline ids whose jobs changed. */
  changed(pipelineIds: number[]): Promise<void>;
}

const RED = '\x1b[31;1m';
const RESET = '\x1b[0;m';

/**
 * Fails the job and appends `ERROR: Job failed<detail>` to its log, so whoever reads the log sees
 * why; `detail` starts with `: ` or ` (system failure): `, as gitlab-runner words it.
 */
async function failWithLine(
  deps: SchedulerDeps,
  job: JobRecord,
  reason: FailureReason,
  detail: string,
): Promise<JobRecord | null> {
  const updated = await failJob(deps, job, reason);
  if (!updated) return null;
  const line = Buffer.from(`\n${RED}ERROR: Job failed${detail}${RESET}\n`);
  const appended = await deps.store.appendTrace(updated.id, updated.traceSize, line);
  if (!appended.ok) await deps.store.appendTrace(updated.id, appended.size, line);
  return updated;
}

function staleMessage(deps: SchedulerDeps): string {
  const seconds = deps.config.runnerStaleSeconds;
  return ` (system failure): the runner stopped contacting the coordinator about this job for ${seconds} seconds (the runner's process or host died, or the network to it is down); failed by the coordinator's watchdog (--runner-stale-seconds ${seconds})`;
}

async function checkRunning(deps: SchedulerDeps, now: number): Promise<JobRecord[]> {
  const staleBefore = new Date(now - deps.config.runnerStaleSeconds * 1000);
  const changed: JobRecord[] = [];
  for (const job of await deps.store.listStaleRunningJobs(staleBefore)) {
    const updated = await failWithLine(deps, job, 'runner_system_failure', staleMessage(deps));
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
        const updated = await failWithLine(
          deps,
          job,
          'job_execution_timeout',
          `: execution took longer than ${job.timeoutSeconds} seconds and the runner did not end it; failed by the coordinator's watchdog`,
        );
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
