/** Hands the oldest matching pending job to a runner: token, timeout, payload. */
import type { FailureReason, PipelineStatus } from '../../../api/job-status.js';
import type { JobPayload } from '../../../api/runner-api.js';
import { hashToken, newToken } from '../../../shared/hash.js';
import { JOB_TOKEN_PREFIX } from '../../../api/runner-api.js';
import { firstFileOfZip, parseDotenv } from '../../artifacts/dotenv.js';
import type { ArtifactRecord, JobRecord, PipelineRecord, RunnerRecord } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import { failJob, requeueJob } from '../jobs/job-actions.js';
import { buildPayload } from './payload.js';

function dependencyNames(job: JobRecord, all: JobRecord[]): string[] {
  const def = job.definition;
  if (def.dependencies !== null) return def.dependencies;
  if (def.needs !== null) return def.needs.filter((n) => n.artifacts).map((n) => n.job);
  return all.filter((j) => j.stageIdx < job.stageIdx).map((j) => j.name);
}

/**
 * True when the job downloads nothing: no need to list the pipeline's jobs for it. A job of the
 * pipeline's first stage with jobs (`stageIdx` 0) has no earlier stage to take artifacts from.
 */
function takesNoDependencies(job: JobRecord): boolean {
  const def = job.definition;
  if (def.dependencies !== null) return def.dependencies.length === 0;
  if (def.needs !== null) return !def.needs.some((n) => n.artifacts);
  return job.stageIdx === 0;
}

async function dependenciesOf(deps: SchedulerDeps, job: JobRecord) {
  if (takesNoDependencies(job)) return [];
  const { items: all } = await deps.store.listJobs({ pipelineId: job.pipelineId });
  const names = new Set(dependencyNames(job, all));
  const chosen = all.filter(
    (j) => j.id !== job.id && (names.has(j.name) || names.has(j.definition.baseName)),
  );
  return Promise.all(
    chosen.map(async (dep) => {
      const artifacts: ArtifactRecord[] = await deps.store.listArtifacts(dep.id);
      return {
        job: dep,
        archive: artifacts.find((a) => a.fileType === 'archive') ?? null,
        dotenv: await readDotenv(
          deps,
          artifacts.find((a) => a.fileType === 'dotenv'),
        ),
      };
    }),
  );
}

async function readDotenv(
  deps: SchedulerDeps,
  report: ArtifactRecord | undefined,
): Promise<{ key: string; value: string }[]> {
  if (!report || !deps.artifacts) return [];
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of deps.artifacts.read(report.storageKey)) chunks.push(chunk as Buffer);
    const text = await firstFileOfZip(Buffer.concat(chunks));
    return text === null ? [] : parseDotenv(text);
  } catch (err) {
    deps.logger.warn(
      { jobId: report.jobId, err: String(err) },
      'dotenv report unreadable; its variables are not passed on',
    );
    return [];
  }
}

export interface ClaimedJob {
  job: JobRecord;
  payload: JobPayload;
  /** The pipeline's status as read after the claim. */
  pipelineStatus: PipelineStatus;
  /** The pipeline as read after the claim (for the payload). */
  pipeline?: PipelineRecord;
}

/**
 * How a claim's answer reads its pipeline (the store, or the scheduler's first-claims gate).
 * `readWithClaim` is the pipeline the claim's store call read with it, when it did: the reader may
 * answer it instead of a read of its own (see ClaimTicket.readPipeline).
 */
export type PipelineRead = (
  pipelineId: number,
  readWithClaim?: PipelineRecord,
) => Promise<PipelineRecord | null>;

export async function claimJob(
  deps: SchedulerDeps,
  runner: RunnerRecord,
  systemId: string | null,
  readPipeline: PipelineRead = (id) => deps.store.getPipeline(id),
): Promise<ClaimedJob | null> {
  // A claimed job whose pipeline or project is gone (deleted meanwhile) must not run: it is
  // failed and the claim looks again, so that the answer `null` always means "nothing to take"
  // (the route then records it for every runner with the same settings, runner-queue.ts). Each
  // round takes one more pending job out of the queue, so this ends.
  for (;;) {
    const outcome = await claimOnce(deps, runner, systemId, readPipeline);
    if (outcome !== ORPHAN) return outcome;
  }
}

/** What claimOnce answers when the job it claimed has no pipeline or project any more. */
const ORPHAN = Symbol('orphan');

async function claimOnce(
  deps: SchedulerDeps,
  runner: RunnerRecord,
  systemId: string | null,
  readPipeline: PipelineRead,
): Promise<ClaimedJob | null | typeof ORPHAN> {
  const token = newToken(JOB_TOKEN_PREFIX);
  const now = deps.clock.now();
  const withPipeline = await deps.store.claimPendingJobWithPipeline(
    {
      runnerId: runner.id,
      tagList: runner.tagList,
      runUntagged: runner.runUntagged,
      accessLevel: runner.accessLevel,
    },
    {
      tokenHash: hashToken(token),
      startedAt: now,
      runnerSystemId: systemId,
      // The job's own timeout, else the default, capped at the runner's maximum: set by the claim.
      timeoutSeconds: deps.config.defaultJobTimeoutSeconds,
      timeoutFromDefinition: true,
      maximumTimeoutSeconds: runner.maximumTimeout,
      lastSeenAt: now,
    },
  );
  if (!withPipeline) return null;
  const { job: claimed, pipeline: readWithClaim } = withPipeline;
  deps.onJobStatus?.('running', 'pending');
  // A pipeline the claim's store call read `running` needs no read of its own: a claim changes
  // nothing else in it (after-claim.ts). Any other status goes through `readPipeline` (the
  // first-claims gate) with the row read with the claim: the gate reads again when the row may
  // predate another claim's `running` of this process, and answers the row otherwise (it then
  // decides what is left to do; the compare-and-set after the claim catches any later write).
  const read: PipelineRead =
    readWithClaim?.status === 'running'
      ? () => Promise.resolve(readWithClaim)
      : (id) => readPipeline(id, readWithClaim);
  try {
    return await answerClaim(deps, claimed, runner, token, read);
  } catch (err) {
    await returnUnanswered(deps, claimed, err);
    throw err;
  }
}

/**
 * A claim whose answer failed after its compare-and-set (a store read timed out waiting for a pool
 * connection under load, say) put the job back to pending: the runner got an error, not the job,
 * so nobody would run it, and it stayed `running` until the watchdog. Best effort: the error of
 * the claim is what the request answers.
 */
export async function returnUnanswered(deps: SchedulerDeps, job: JobRecord, cause: unknown): Promise<void> {
  try {
    await requeueJob(deps, job, 'job request failed after its claim; job queued again');
  } catch (err) {
    deps.logger.error(
      { jobId: job.id, err: String(err), cause: String(cause) },
      'job request failed after its claim and the job could not be queued again; the watchdog ends it',
    );
  }
}

/**
 * A claimed job whose project (or pipeline) was deleted meanwhile: GitLab drops such a job
 * (`project_deleted`) rather than run it. Failed here, not left `running` with no runner until
 * the watchdog.
 */
async function dropOrphan(deps: SchedulerDeps, job: JobRecord, reason: FailureReason): Promise<void> {
  deps.logger.warn(
    { jobId: job.id, pipelineId: job.pipelineId, projectId: job.projectId, reason },
    'claimed job has no pipeline or project any more; not run',
  );
  await failJob(deps, job, reason);
}

async function answerClaim(
  deps: SchedulerDeps,
  job: JobRecord,
  runner: RunnerRecord,
  token: string,
  readPipeline: PipelineRead,
): Promise<ClaimedJob | typeof ORPHAN> {
  const timeoutSeconds = job.timeoutSeconds ?? deps.config.defaultJobTimeoutSeconds;
  const [pipeline, project, dependencies] = await Promise.all([
    readPipeline(job.pipelineId),
    deps.store.getProject(job.projectId),
    dependenciesOf(deps, job),
  ]);
  if (!pipeline || !project) {
    await dropOrphan(deps, job, project ? 'data_integrity_failure' : 'project_deleted');
    return ORPHAN;
  }
  const payload = await buildPayload(deps, {
    job,
    pipeline,
    project,
    runner,
    jobToken: token,
    timeoutSeconds,
    dependencies,
  });
  deps.logger.info({ jobId: job.id, runnerId: runner.id, pipelineId: pipeline.id }, 'job assigned to runner');
  return { job, payload, pipelineStatus: pipeline.status, pipeline };
}
