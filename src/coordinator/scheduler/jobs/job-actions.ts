/**
 * What users and runners do to jobs: finish, cancel, retry, play. Each action changes job
 * statuses with compare-and-set updates and then processes the pipeline again.
 */
import { isCompleted, type FailureReason, type JobStatus } from '../../../api/job-status.js';
import { FlotillaError } from '../../../shared/errors.js';
import type { JobRecord, NewJob } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';

const CANCELABLE: JobStatus[] = [
  'created',
  'pending',
  'scheduled',
  'waiting_for_resource',
  'preparing',
  'manual',
];

export interface JobResult {
  state: 'success' | 'failed';
  failureReason?: FailureReason;
  exitCode?: number;
}

/** A runner reports the end of a job. A job being canceled ends as `canceled`. */
export async function finishJob(
  deps: SchedulerDeps,
  job: JobRecord,
  result: JobResult,
): Promise<JobRecord | null> {
  const status: JobStatus =
    job.status === 'canceling' ? 'canceled' : result.state === 'success' ? 'success' : 'failed';
  const updated = await deps.store.updateJob(
    job.id,
    {
      status,
      finishedAt: deps.clock.now(),
      failureReason: status === 'failed' ? (result.failureReason ?? 'unknown_failure') : null,
      exitCode: result.exitCode ?? null,
      tokenHash: null,
    },
    ['running', 'canceling'],
  );
  if (updated) deps.onJobStatus?.(status, job.status);
  return updated;
}

/** Fails a running job from the coordinator's side (stuck runner, server-side timeout). */
export async function failJob(
  deps: SchedulerDeps,
  job: JobRecord,
  reason: FailureReason,
): Promise<JobRecord | null> {
  const updated = await deps.store.updateJob(
    job.id,
    { status: 'failed', failureReason: reason, finishedAt: deps.clock.now(), tokenHash: null },
    ['running', 'canceling'],
  );
  if (updated) {
    deps.onJobStatus?.('failed', job.status);
    deps.logger.warn({ jobId: job.id, reason }, 'job failed by coordinator');
  }
  return updated;
}

/**
 * Puts a job that was handed to a runner back in the queue, when the runner can never have received
 * it (its request was gone before the answer was sent).
 */
export async function requeueJob(
  deps: SchedulerDeps,
  job: JobRecord,
  reason = 'runner went away before receiving its job; job queued again',
): Promise<JobRecord | null> {
  const updated = await deps.store.updateJob(
    job.id,
    {
      status: 'pending',
      runnerId: null,
      runnerSystemId: null,
      tokenHash: null,
      startedAt: null,
      lastSeenAt: null,
      queuedAt: job.queuedAt ?? deps.clock.now(),
    },
    ['running'],
  );
  if (updated) {
    deps.queue.jobsQueued([updated]);
    deps.logger.warn({ jobId: job.id, runnerId: job.runnerId }, reason);
  }
  return updated;
}

/** Cancels one job: running jobs go to `canceling` (the runner runs after_script), others to `canceled`. */
export async function cancelJob(deps: SchedulerDeps, job: JobRecord): Promise<JobRecord> {
  if (job.definition.trigger && !isCompleted(job.status)) return cancelBridge(deps, job);
  if (job.status === 'running') {
    const updated = await deps.store.updateJob(
      job.id,
      { status: 'canceling', lastSeenAt: deps.clock.now() },
      ['running'],
    );
    if (updated) return updated;
  } else if (CANCELABLE.includes(job.status)) {
    const updated = await deps.store.updateJob(
      job.id,
      { status: 'canceled', finishedAt: deps.clock.now() },
      CANCELABLE,
    );
    if (updated) {
      deps.onJobStatus?.('canceled', job.status);
      return updated;
    }
  }
  return (await deps.store.getJob(job.id)) ?? job;
}

/** A bridge has no runner to wait for: it is canceled at once (its child pipeline is canceled apart). */
async function cancelBridge(deps: SchedulerDeps, job: JobRecord): Promise<JobRecord> {
  const updated = await deps.store.updateJob(job.id, { status: 'canceled', finishedAt: deps.clock.now() }, [
    ...CANCELABLE,
    'running',
  ]);
  if (updated) deps.onJobStatus?.('canceled', job.status);
  return updated ?? (await deps.store.getJob(job.id)) ?? job;
}

function cloneForRetry(job: JobRecord, userId: number): NewJob {
  return {
    name: job.name,
    stage: job.stage,
    stageIdx: job.stageIdx,
    status: 'created',
    when: job.when === 'manual' ? 'on_success' : job.when,
    allowFailure: job.allowFailure,
    definition: job.definition,
    tagList: job.tagList,
    protected: job.protected,
    retryOfId: job.id,
    userId,
  };
}

/** Jobs skipped because of the retried ones go back to `created`, as GitLab resets them. */
export async function resetSkippedAfter(deps: SchedulerDeps, retried: JobRecord[]): Promise<void> {
  const { items } = await deps.store.listJobs({ pipelineId: retried[0]?.pipelineId ?? 0 });
  const minStage = Math.min(...retried.map((j) => j.stageIdx));
  const names = new Set(retried.map((j) => j.name));
  for (const job of items) {
    if (job.status !== 'skipped') continue;
    const needsRetried = job.definition.needs?.some((n) => names.has(n.job)) ?? false;
    if (job.stageIdx > minStage || needsRetried) {
      await deps.store.updateJob(job.id, { status: 'created', finishedAt: null }, ['skipped']);
    }
  }
}

/** Retries completed jobs: each gets a new job (the old one is kept, marked retried). */
export async function retryJobs(
  deps: SchedulerDeps,
  jobs: JobRecord[],
  userId: number,
): Promise<JobRecord[]> {
  const first = jobs[0];
  if (!first) return [];
  for (const job of jobs) {
    if (!isCompleted(job.status)) {
      throw new FlotillaError('FLO_ERR_FORBIDDEN', `Job is not retryable: it is ${job.status}`, {
        details: { jobId: job.id },
      });
    }
  }
  const created = await deps.store.createJobs(
    first.pipelineId,
    first.projectId,
    jobs.map((j) => cloneForRetry(j, userId)),
  );
  for (const job of jobs) await deps.store.updateJob(job.id, { retried: true });
  await resetSkippedAfter(deps, jobs);
  await deps.store.updatePipeline(first.pipelineId, { finishedAt: null });
  return created;
}

/** Plays a manual job: it becomes pending. A completed manual job is retried instead. */
export async function playJob(deps: SchedulerDeps, job: JobRecord, userId: number): Promise<JobRecord> {
  if (job.status === 'manual') {
    const updated = await deps.store.updateJob(job.id, { status: 'pending', queuedAt: deps.clock.now() }, [
      'manual',
    ]);
    if (updated) {
      deps.queue.jobsQueued([updated]);
      deps.onJobStatus?.('pending', 'manual');
      return updated;
    }
  }
  if (job.when === 'manual' && isCompleted(job.status)) {
    const [retried] = await retryJobs(deps, [job], userId);
    if (retried) return retried;
  }
  throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'Unplayable Job', {
    details: { jobId: job.id, status: job.status },
  });
}
