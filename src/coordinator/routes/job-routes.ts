/** REST: jobs of a project (show, list, trace, cancel, retry, play, erase, artifacts). */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { isCompleted, JOB_STATUSES, type JobStatus } from '../../api/job-status.js';
import type { JobResponse } from '../../api/rest-api.js';
import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type { JobRecord, ProjectRecord } from '../store/store.js';
import { baseUrl, parseId, parsePage, setPaginationHeaders } from './http-helpers.js';
import { presentJob } from './presenters.js';
import { auth, resolveProject } from './project-routes.js';
import { sendArchive } from './runner-artifact-routes.js';
import { traceStream } from './trace-stream.js';

export async function presentJobs(
  ctx: CoordinatorContext,
  jobs: JobRecord[],
  project: ProjectRecord,
): Promise<JobResponse[]> {
  const base = baseUrl(ctx);
  const pipelines = new Map<number, Awaited<ReturnType<typeof ctx.store.getPipeline>>>();
  // One read per user and runner for the whole list (a pipeline's jobs share a few of each).
  const users = new Map<number, ReturnType<typeof ctx.store.getUser>>();
  const runners = new Map<number, ReturnType<typeof ctx.store.getRunner>>();
  const once = <T>(cache: Map<number, T>, id: number, read: () => T): T => {
    const known = cache.get(id);
    if (known !== undefined) return known;
    const value = read();
    cache.set(id, value);
    return value;
  };
  const out: JobResponse[] = [];
  for (const job of jobs) {
    if (!pipelines.has(job.pipelineId))
      pipelines.set(job.pipelineId, await ctx.store.getPipeline(job.pipelineId));
    const pipeline = pipelines.get(job.pipelineId);
    if (!pipeline) continue;
    const { userId, runnerId } = job;
    const [user, runner, artifacts] = await Promise.all([
      once(users, userId, () => ctx.store.getUser(userId)),
      runnerId ? once(runners, runnerId, () => ctx.store.getRunner(runnerId)) : Promise.resolve(null),
      ctx.store.listArtifacts(job.id),
    ]);
    out.push(presentJob(job, { pipeline, project, user, runner, artifacts, base }));
  }
  return out;
}

async function loadJob(
  ctx: CoordinatorContext,
  request: FastifyRequest,
): Promise<{ job: JobRecord; project: ProjectRecord }> {
  const params = request.params as Record<string, string>;
  const project = await resolveProject(ctx, params['id'], request);
  const job = await ctx.store.getJob(parseId(params['job_id'], 'Job'));
  if (!job || job.projectId !== project.id) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Job Not Found');
  return { job, project };
}

/** As GitLab: only a finished job that still has a log or artifacts can be erased. */
async function eraseJob(ctx: CoordinatorContext, job: JobRecord): Promise<JobRecord> {
  if (!isCompleted(job.status)) {
    throw new FlotillaError(
      'FLO_ERR_FORBIDDEN',
      `403 Forbidden - Job is not erasable: it is ${job.status}; cancel it or wait for it to finish`,
    );
  }
  const artifacts = await ctx.store.listArtifacts(job.id);
  if (job.traceSize === 0 && artifacts.length === 0) {
    throw new FlotillaError(
      'FLO_ERR_FORBIDDEN',
      '403 Forbidden - Job is not erasable: it has no log or artifacts',
    );
  }
  const erased = await ctx.store.eraseJob(job.id, ctx.clock.now());
  if (!erased) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Job Not Found');
  for (const a of erased.artifacts) await ctx.artifacts.remove(a.storageKey);
  ctx.logger.info({ jobId: job.id, artifacts: erased.artifacts.length }, 'job erased');
  return erased.job;
}

function scopes(query: Record<string, unknown>): JobStatus[] | undefined {
  const raw = query['scope[]'] ?? query['scope'];
  if (raw === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw : [raw]).map(String);
  for (const s of list) {
    if (!(JOB_STATUSES as readonly string[]).includes(s))
      throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'scope does not have a valid value');
  }
  return list as JobStatus[];
}

export function registerJobRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const base = (): string => baseUrl(ctx);
  const one = async (job: JobRecord, project: ProjectRecord): Promise<JobResponse> => {
    const [presented] = await presentJobs(ctx, [job], project);
    if (!presented) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Job Not Found');
    return presented;
  };
  app.get('/api/v4/projects/:id/jobs', async (request, reply) => {
    await auth(ctx, request);
    const project = await resolveProject(ctx, (request.params as Record<string, string>)['id'], request);
    const query = request.query as Record<string, unknown>;
    const page = parsePage(query);
    const statuses = scopes(query);
    const result = await ctx.store.listJobs(
      { projectId: project.id, kind: 'build', ...(statuses ? { statuses } : {}) },
      page,
    );
    setPaginationHeaders(request, reply, page, result, base());
    return presentJobs(ctx, result.items, project);
  });
  app.get('/api/v4/projects/:id/jobs/:job_id', async (request) => {
    await auth(ctx, request);
    const { job, project } = await loadJob(ctx, request);
    return one(job, project);
  });
  app.get('/api/v4/projects/:id/jobs/:job_id/trace', async (request, reply) => {
    await auth(ctx, request);
    const { job } = await loadJob(ctx, request);
    ctx.watchedTraces.set(job.id, ctx.clock.monotonic());
    reply.type('text/plain; charset=utf-8').header('Content-Length', String(job.traceSize));
    return reply.send(traceStream(ctx.store, job.id, job.traceSize));
  });
  app.post('/api/v4/projects/:id/jobs/:job_id/cancel', async (request, reply) => {
    await auth(ctx, request);
    const { job, project } = await loadJob(ctx, request);
    return reply.code(201).send(await one(await ctx.scheduler.cancelJob(job), project));
  });
  app.post('/api/v4/projects/:id/jobs/:job_id/retry', async (request, reply) => {
    const principal = await auth(ctx, request);
    const { job, project } = await loadJob(ctx, request);
    return reply.code(201).send(await one(await ctx.scheduler.retryJob(job, principal.user.id), project));
  });
  app.post('/api/v4/projects/:id/jobs/:job_id/play', async (request, reply) => {
    const principal = await auth(ctx, request);
    const { job, project } = await loadJob(ctx, request);
    return reply.code(200).send(await one(await ctx.scheduler.playJob(job, principal.user.id), project));
  });
  app.post('/api/v4/projects/:id/jobs/:job_id/erase', async (request, reply) => {
    await auth(ctx, request);
    const { job, project } = await loadJob(ctx, request);
    return reply.code(201).send(await one(await eraseJob(ctx, job), project));
  });
  app.get('/api/v4/projects/:id/jobs/:job_id/artifacts', async (request, reply) => {
    await auth(ctx, request);
    const { job } = await loadJob(ctx, request);
    if (job.definition.artifacts?.access === 'none') {
      throw new FlotillaError('FLO_ERR_FORBIDDEN', '403 Forbidden - the job says artifacts:access: none', {
        details: { job: job.id },
      });
    }
    return sendArchive(ctx, job, reply);
  });
}
