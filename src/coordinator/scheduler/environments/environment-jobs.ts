/**
 * Environments and deployments of jobs with `environment:`, as GitLab records them:
 * - when such a job is handed to a runner, its environment (name and url expanded with the job's
 *   variables) is found or created and the job is linked to it; an `action: start` job (the
 *   default) is a deployment with the project's next iid. `stop`, `prepare`, `verify` and `access`
 *   jobs are not deployments (GitLab's `starts_environment?`). The runner gets `CI_ENVIRONMENT_*`
 *   and the project variables scoped to that environment.
 * - after every status change of the pipeline's jobs, each link mirrors its job's status; a
 *   successful deployment makes its environment `available` again, a successful `stop` job makes
 *   it `stopped`, and a `stop` job that fails or is canceled gives a `stopping` one back.
 * Recording never fails a job: its errors are logged and the job goes on. Reading the scoped
 * variables is not recording: a job never runs without them (see `recordEnvironmentStart`).
 */
import type { JobStatus } from '../../../api/job-status.js';
import { isFlotillaError } from '../../../shared/errors.js';
import type { DeploymentRecord, DeploymentStatus, JobRecord } from '../../store/store.js';
import type { ClaimedJob } from '../queue/claim.js';
import type { SchedulerDeps } from '../deps.js';
import { resolveEnvironment, type ResolvedEnvironment } from './environment-names.js';
import { environmentVariables } from '../variables/predefined-variables.js';
import { withScopedVariables } from '../variables/scoped-variables.js';

const FINAL: ReadonlySet<DeploymentStatus> = new Set(['success', 'failed', 'canceled', 'skipped']);

/** GitLab's deployment status for a job status. */
export function deploymentStatusOf(status: JobStatus): DeploymentStatus {
  switch (status) {
    case 'running':
    case 'canceling':
      return 'running';
    case 'success':
    case 'failed':
    case 'canceled':
    case 'skipped':
      return status;
    case 'manual':
      return 'blocked';
    default:
      return 'created';
  }
}

function addVariables(claimed: ClaimedJob, env: ResolvedEnvironment): void {
  const added = environmentVariables(env);
  const keys = new Set(added.map((v) => v.key));
  const payload = claimed.payload;
  payload.variables = [...payload.variables.filter((v) => !keys.has(v.key)), ...added];
}

async function link(deps: SchedulerDeps, claimed: ClaimedJob, env: ResolvedEnvironment): Promise<void> {
  const { job, payload } = claimed;
  const environment = await deps.store.findOrCreateEnvironment({
    projectId: job.projectId,
    name: env.name,
    slug: env.slug,
    externalUrl: env.url,
    tier: env.tier,
  });
  if (env.action === 'start' && env.url !== null && env.url !== environment.externalUrl) {
    await deps.store.updateEnvironment(environment.id, { externalUrl: env.url });
  }
  const input = {
    projectId: job.projectId,
    environmentId: environment.id,
    jobId: job.id,
    pipelineId: job.pipelineId,
    action: env.action,
    ref: payload.git_info.ref,
    sha: payload.git_info.sha,
    tag: payload.git_info.ref_type === 'tag',
    status: 'running' as const,
    userId: job.userId,
  };
  try {
    await deps.store.createDeployment(input);
  } catch (err) {
    // The same job claimed again after a requeue keeps its one link.
    if (!isFlotillaError(err, 'FLO_ERR_CONFLICT')) throw err;
    const existing = await deps.store.findDeploymentByJob(job.id);
    if (existing) await deps.store.updateDeployment(existing.id, { status: 'running', finishedAt: null });
  }
}

/** Project variables scoped to the environment join the payload (`environment_scope`). */
async function addScopedVariables(deps: SchedulerDeps, claimed: ClaimedJob, env: ResolvedEnvironment) {
  const { job, payload } = claimed;
  const pipeline = await deps.store.getPipeline(job.pipelineId);
  const input = {
    projectId: job.projectId,
    environment: env.name,
    refProtected: payload.git_info.protected,
    pipelineKeys: new Set((pipeline?.variables ?? []).map((v) => v.key)),
  };
  payload.variables = await withScopedVariables(deps.store, input, payload.variables);
}

/**
 * Called when a job is handed to a runner (before the payload is sent). A failure to read the
 * scoped variables propagates: the job must not run without them (the watchdog then fails it).
 */
export async function recordEnvironmentStart(deps: SchedulerDeps, claimed: ClaimedJob): Promise<void> {
  const env = resolveEnvironment(claimed.job.definition.environment, claimed.payload.variables);
  if (!env) return;
  await addScopedVariables(deps, claimed, env);
  addVariables(claimed, env);
  try {
    await link(deps, claimed, env);
  } catch (err) {
    deps.logger.warn({ jobId: claimed.job.id, err: String(err) }, 'environment not recorded');
  }
}

async function settle(deps: SchedulerDeps, row: DeploymentRecord, job: JobRecord): Promise<void> {
  const status = deploymentStatusOf(job.status);
  if (status === row.status) return;
  const finishedAt = FINAL.has(status) ? (job.finishedAt ?? deps.clock.now()) : null;
  await deps.store.updateDeployment(row.id, { status, finishedAt });
  if (row.action === 'stop' && status !== 'success' && FINAL.has(status)) {
    // A stop job that did not succeed gives a `stopping` environment back (GitLab's recovery).
    const environment = await deps.store.getEnvironment(row.environmentId);
    if (environment?.state === 'stopping') {
      await deps.store.updateEnvironment(row.environmentId, { state: 'available' });
    }
  }
  if (status !== 'success') return;
  if (row.action === 'start') await deps.store.updateEnvironment(row.environmentId, { state: 'available' });
  if (row.action === 'stop') await deps.store.updateEnvironment(row.environmentId, { state: 'stopped' });
}

/**
 * Mirrors the statuses of a pipeline's environment jobs onto their links and environments.
 * Returns false when the pipeline has no environment job (nor can get one: a retry copies its
 * job's definition), so the caller may skip it from then on.
 */
export async function syncEnvironmentJobs(deps: SchedulerDeps, pipelineId: number): Promise<boolean> {
  try {
    const { items: jobs } = await deps.store.listJobs({ pipelineId, includeRetried: true });
    const withEnvironment = jobs.filter((j) => j.definition.environment);
    const first = withEnvironment[0];
    if (!first) return jobs.length > 0 ? false : true;
    const { items: rows } = await deps.store.listDeployments(
      first.projectId,
      { pipelineId, allActions: true },
      { page: 1, perPage: withEnvironment.length },
    );
    const byId = new Map(withEnvironment.map((j) => [j.id, j]));
    for (const row of rows) {
      const job = byId.get(row.jobId);
      if (job) await settle(deps, row, job);
    }
  } catch (err) {
    deps.logger.warn({ pipelineId, err: String(err) }, 'environment statuses not updated');
  }
  return true;
}
