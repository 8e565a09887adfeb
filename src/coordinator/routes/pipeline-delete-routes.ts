/** REST: a pipeline's variables, and deleting a pipeline (`DELETE /projects/:id/pipelines/:id`). */
import type { FastifyInstance } from 'fastify';

import { isCompleted } from '../../api/job-status.js';
import type { CoordinatorContext } from '../context.js';
import type { PipelineRecord, ProjectRecord } from '../store/store.js';
import { loadPipeline } from './pipeline-routes.js';
import { auth, resolveProject } from './project-routes.js';

/**
 * As GitLab's DestroyPipelineService: unfinished jobs are canceled first (runners learn it on
 * their next update and stop), then the pipeline, its jobs, logs and artifacts go, and so does
 * the `refs/pipelines/<id>` ref.
 */
async function deletePipeline(
  ctx: CoordinatorContext,
  project: ProjectRecord,
  pipeline: PipelineRecord,
): Promise<void> {
  if (!isCompleted(pipeline.status)) await ctx.scheduler.cancelPipeline(pipeline);
  const { items } = await ctx.store.listJobs({ pipelineId: pipeline.id, includeRetried: true });
  if (!(await ctx.store.deletePipeline(pipeline.id))) return;
  const fullPath = `${project.namespacePath}/${project.path}`;
  await ctx.git.deletePipelineRef(fullPath, pipeline.id);
  await ctx.artifacts.removeJobs(items.map((j) => j.id));
  ctx.logger.info({ projectId: project.id, pipelineId: pipeline.id, jobs: items.length }, 'pipeline deleted');
}

export function registerPipelineDeleteRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get('/api/v4/projects/:id/pipelines/:pipeline_id/variables', async (request) => {
    await auth(ctx, request);
    const params = request.params as Record<string, string>;
    const project = await resolveProject(ctx, params['id'], request);
    const pipeline = await loadPipeline(ctx, project, params['pipeline_id']);
    return pipeline.variables.map((v) => ({ key: v.key, variable_type: v.variableType, value: v.value }));
  });
  app.delete('/api/v4/projects/:id/pipelines/:pipeline_id', async (request, reply) => {
    await auth(ctx, request);
    const params = request.params as Record<string, string>;
    const project = await resolveProject(ctx, params['id'], request);
    const pipeline = await loadPipeline(ctx, project, params['pipeline_id']);
    await deletePipeline(ctx, project, pipeline);
    return reply.code(204).send();
  });
}
