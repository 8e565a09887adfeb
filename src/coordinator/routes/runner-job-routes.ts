/** REST: the jobs a runner took (`GET /runners/:id/jobs`), newest first as GitLab lists them. */
import type { FastifyInstance } from 'fastify';

import { JOB_STATUSES, type JobStatus } from '../../api/job-status.js';
import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type { JobRecord, ProjectRecord } from '../store/store.js';
import { baseUrl, parseId, parsePage, setPaginationHeaders, str } from './http-helpers.js';
import { presentJobs } from './job-routes.js';
import { auth } from './project-routes.js';

function statusFilter(query: Record<string, unknown>): JobStatus[] | undefined {
  const status = str(query, 'status');
  if (status === undefined) return undefined;
  if (!(JOB_STATUSES as readonly string[]).includes(status)) {
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      `status does not have a valid value: ${status} (use ${JOB_STATUSES.join(', ')})`,
    );
  }
  return [status as JobStatus];
}

function sortOf(query: Record<string, unknown>): 'asc' | 'desc' {
  const orderBy = str(query, 'order_by');
  if (orderBy !== undefined && orderBy !== 'id') {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'order_by does not have a valid value (use id)');
  }
  const sort = str(query, 'sort') ?? 'desc';
  if (sort !== 'asc' && sort !== 'desc') {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'sort does not have a valid value (use asc or desc)');
  }
  return sort;
}

function projectBasic(project: ProjectRecord) {
  const owner = project.namespacePath === 'root' ? 'Administrator' : project.namespacePath;
  return {
    id: project.id,
    name: project.name,
    name_with_namespace: `${owner} / ${project.name}`,
    path: project.path,
    path_with_namespace: `${project.namespacePath}/${project.path}`,
    created_at: project.createdAt.toISOString(),
  };
}

async function present(ctx: CoordinatorContext, jobs: JobRecord[]) {
  const projects = new Map<number, ProjectRecord | null>();
  const out = [];
  for (const job of jobs) {
    if (!projects.has(job.projectId)) projects.set(job.projectId, await ctx.store.getProject(job.projectId));
    const project = projects.get(job.projectId);
    if (!project) continue;
    const [shown] = await presentJobs(ctx, [job], project);
    if (shown) out.push({ ...shown, project: projectBasic(project) });
  }
  return out;
}

export function registerRunnerJobRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get('/api/v4/runners/:id/jobs', async (request, reply) => {
    await auth(ctx, request);
    const runnerId = parseId((request.params as Record<string, string>)['id'], 'Runner');
    if (!(await ctx.store.getRunner(runnerId))) {
      throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Runner Not Found');
    }
    const query = request.query as Record<string, unknown>;
    const page = parsePage(query);
    const statuses = statusFilter(query);
    const result = await ctx.store.listJobs(
      { runnerId, includeRetried: true, sort: sortOf(query), ...(statuses ? { statuses } : {}) },
      page,
    );
    setPaginationHeaders(request, reply, page, result, baseUrl(ctx));
    return present(ctx, result.items);
  });
}
