/** REST: pipelines of a project (create, list, show, cancel, retry, jobs). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { JOB_STATUSES, type JobStatus, type PipelineStatus } from '../../api/job-status.js';
import type { BridgeResponse } from '../../api/rest-api.js';
import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type { JobRecord, PipelineRecord, PipelineVariable, ProjectRecord } from '../store/store.js';
import { bodyOf, bool, parseId, parsePage, setPaginationHeaders, str, baseUrl } from './http-helpers.js';
import { presentBridge, presentPipeline } from './presenters.js';
import { auth, resolveProject } from './project-routes.js';
import { presentJobs } from './job-routes.js';

function readVariables(value: unknown): PipelineVariable[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      'variables is invalid: expected an array of {key, value, variable_type}',
    );
  return value.map((v: unknown, i) => {
    const item = (v ?? {}) as Record<string, unknown>;
    if (typeof item['key'] !== 'string' || !/^[A-Za-z0-9_]+$/.test(item['key'])) {
      throw new FlotillaError(
        'FLO_ERR_BAD_REQUEST',
        `variables[${i}][key] is invalid: use letters, digits and _`,
      );
    }
    const type = item['variable_type'] === 'file' ? 'file' : 'env_var';
    return { key: item['key'], value: String(item['value'] ?? ''), variableType: type };
  });
}

export async function loadPipeline(
  ctx: CoordinatorContext,
  project: ProjectRecord,
  idParam: unknown,
): Promise<PipelineRecord> {
  const pipeline = await ctx.store.getPipeline(parseId(idParam, 'Pipeline'));
  if (!pipeline || pipeline.projectId !== project.id)
    throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Not found');
  return pipeline;
}

async function present(ctx: CoordinatorContext, pipeline: PipelineRecord, project: ProjectRecord) {
  const user = await ctx.store.getUser(pipeline.userId);
  return presentPipeline(pipeline, project, user, ctx.config.externalUrl.replace(/\/$/, ''));
}

async function createFromApi(ctx: CoordinatorContext, request: FastifyRequest) {
  const principal = await auth(ctx, request);
  const params = request.params as Record<string, string>;
  const project = await resolveProject(ctx, params['id'], request);
  const body = bodyOf(request);
  const ref = str(body, 'ref') ?? str(request.query as Record<string, unknown>, 'ref');
  if (!ref) throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'ref is missing');
  const pipeline = await ctx.scheduler.createPipeline({
    project,
    ref,
    source: 'api',
    variables: readVariables(body['variables']),
    userId: principal.user.id,
  });
  ctx.metrics.pipelinesCreated.inc({ source: 'api', status: pipeline.status });
  return present(ctx, pipeline, project);
}

/** GET pipelines of a project, filtered by ref, sha, source and status. */
async function listFromApi(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  await auth(ctx, request);
  const project = await resolveProject(ctx, (request.params as Record<string, string>)['id'], request);
  const query = request.query as Record<string, unknown>;
  const status = str(query, 'status');
  if (status && !(JOB_STATUSES as readonly string[]).includes(status)) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `status does not have a valid value`);
  }
  const sort = str(query, 'sort');
  const page = parsePage(query);
  const result = await ctx.store.listPipelines(
    project.id,
    {
      ...(str(query, 'ref') ? { ref: str(query, 'ref') } : {}),
      ...(str(query, 'sha') ? { sha: str(query, 'sha') } : {}),
      ...(str(query, 'source') ? { source: str(query, 'source') } : {}),
      ...(status ? { status: status as PipelineStatus } : {}),
      ...(sort === 'asc' || sort === 'desc' ? { sort } : {}),
    },
    page,
  );
  setPaginationHeaders(request, reply, page, result, baseUrl(ctx));
  return Promise.all(result.items.map((p) => present(ctx, p, project)));
}

export function registerPipelineRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.post('/api/v4/projects/:id/pipeline', async (request, reply) =>
    reply.code(201).send(await createFromApi(ctx, request)),
  );
  app.get('/api/v4/projects/:id/pipelines', async (request, reply) => listFromApi(ctx, request, reply));
  app.get('/api/v4/projects/:id/pipelines/:pipeline_id', async (request) => {
    await auth(ctx, request);
    const params = request.params as Record<string, string>;
    const project = await resolveProject(ctx, params['id'], request);
    return present(ctx, await loadPipeline(ctx, project, params['pipeline_id']), project);
  });
  app.post('/api/v4/projects/:id/pipelines/:pipeline_id/cancel', async (request) => {
    const { project, pipeline } = await requestPipeline(ctx, request);
    await ctx.scheduler.cancelPipeline(pipeline);
    return present(ctx, (await ctx.store.getPipeline(pipeline.id)) ?? pipeline, project);
  });
  app.post('/api/v4/projects/:id/pipelines/:pipeline_id/retry', async (request, reply) => {
    const { principal, project, pipeline } = await requestPipeline(ctx, request);
    await ctx.scheduler.retryPipeline(pipeline, principal.user.id);
    return reply
      .code(201)
      .send(await present(ctx, (await ctx.store.getPipeline(pipeline.id)) ?? pipeline, project));
  });
  app.get('/api/v4/projects/:id/pipelines/:pipeline_id/jobs', async (request, reply) => {
    const { project, pipeline } = await requestPipeline(ctx, request);
    const includeRetried = bool(request.query as Record<string, unknown>, 'include_retried') === true;
    const jobs = await pipelineJobsPage(ctx, request, reply, pipeline, { includeRetried, kind: 'build' });
    return presentJobs(ctx, jobs, project);
  });
  app.get('/api/v4/projects/:id/pipelines/:pipeline_id/bridges', async (request, reply) => {
    const { project, pipeline } = await requestPipeline(ctx, request);
    const bridges = await pipelineJobsPage(ctx, request, reply, pipeline, { kind: 'bridge' });
    return presentBridges(ctx, bridges, pipeline, project);
  });
}

/** The caller and the request's pipeline (`:id`, `:pipeline_id`), after authentication. */
async function requestPipeline(ctx: CoordinatorContext, request: FastifyRequest) {
  const principal = await auth(ctx, request);
  const params = request.params as Record<string, string>;
  const project = await resolveProject(ctx, params['id'], request);
  const pipeline = await loadPipeline(ctx, project, params['pipeline_id']);
  return { principal, project, pipeline };
}

/** One page (`page`, `per_page`, `scope`) of a pipeline's jobs of one kind, pagination headers set. */
async function pipelineJobsPage(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  pipeline: PipelineRecord,
  filter: { kind: 'build' | 'bridge'; includeRetried?: boolean },
): Promise<JobRecord[]> {
  const query = request.query as Record<string, unknown>;
  const page = parsePage(query);
  const result = await ctx.store.listJobs(
    { pipelineId: pipeline.id, ...filter, ...scopeFilter(query) },
    page,
  );
  setPaginationHeaders(request, reply, page, result, baseUrl(ctx));
  return result.items;
}

/** `scope` / `scope[]`: job statuses to keep. */
function scopeFilter(query: Record<string, unknown>): { statuses?: JobStatus[] } {
  const raw = query['scope[]'] ?? query['scope'];
  if (raw === undefined) return {};
  const list = (Array.isArray(raw) ? raw : [raw]).map(String);
  for (const s of list) {
    if (!(JOB_STATUSES as readonly string[]).includes(s))
      throw new FlotillaError(
        'FLO_ERR_BAD_REQUEST',
        `scope does not have a valid value: ${s} (use ${JOB_STATUSES.join(', ')})`,
      );
  }
  return { statuses: list as JobStatus[] };
}

async function presentBridges(
  ctx: CoordinatorContext,
  bridges: JobRecord[],
  pipeline: PipelineRecord,
  project: ProjectRecord,
): Promise<BridgeResponse[]> {
  const base = baseUrl(ctx);
  const out: BridgeResponse[] = [];
  for (const bridge of bridges) {
    const [user, children] = await Promise.all([
      ctx.store.getUser(bridge.userId),
      ctx.store.listPipelines(project.id, { parentJobId: bridge.id }, { page: 1, perPage: 1 }),
    ]);
    const downstream = children.items[0] ?? null;
    out.push(presentBridge(bridge, { pipeline, project, user, downstream, base }));
  }
  return out;
}
