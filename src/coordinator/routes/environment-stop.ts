/**
 * `POST /projects/:id/environments/:environment_id/stop`, as GitLab stops an environment: when the
 * job of its latest successful deployment names an `on_stop` job that is waiting (manual) in the
 * same pipeline, that job is played and the environment is `stopping` until it finishes (success
 * → `stopped`, failure → `available` again); otherwise, or with `force=true`, it is `stopped` at once.
 */
import type { CoordinatorContext } from '../context.js';
import type { EnvironmentRecord, JobRecord, ProjectRecord } from '../store/store.js';

async function onStopJob(
  ctx: CoordinatorContext,
  project: ProjectRecord,
  environment: EnvironmentRecord,
): Promise<JobRecord | null> {
  const { items } = await ctx.store.listDeployments(
    project.id,
    { environmentId: environment.id, status: 'success', sort: 'desc' },
    { page: 1, perPage: 1 },
  );
  const deployment = items[0];
  if (!deployment) return null;
  const deployJob = await ctx.store.getJob(deployment.jobId);
  const name = deployJob?.definition.environment?.onStop;
  if (!deployJob || !name) return null;
  const { items: jobs } = await ctx.store.listJobs({ pipelineId: deployJob.pipelineId, kind: 'build' });
  return jobs.find((j) => j.name === name && j.status === 'manual') ?? null;
}

export async function stopEnvironment(
  ctx: CoordinatorContext,
  project: ProjectRecord,
  environment: EnvironmentRecord,
  input: { userId: number; force: boolean },
): Promise<EnvironmentRecord> {
  if (environment.state === 'stopped') return environment;
  const stopJob = input.force ? null : await onStopJob(ctx, project, environment);
  if (stopJob) {
    await ctx.scheduler.playJob(stopJob, input.userId);
    const now = await ctx.store.getEnvironment(environment.id);
    if (now?.state === 'available') await ctx.store.updateEnvironment(environment.id, { state: 'stopping' });
  } else {
    await ctx.store.updateEnvironment(environment.id, { state: 'stopped' });
  }
  return (await ctx.store.getEnvironment(environment.id)) ?? environment;
}
