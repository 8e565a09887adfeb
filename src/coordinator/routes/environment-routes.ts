/**
 * REST: environments and deployments of a project, in GitLab's shapes
 * (`GET /projects/:id/environments`, `.../environments/:environment_id`, `POST .../stop`,
 * `.../deployments`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type {
  DeploymentFilter,
  DeploymentRecord,
  DeploymentStatus,
  EnvironmentFilter,
  EnvironmentRecord,
  EnvironmentState,
  ProjectRecord,
} from '../store/store.js';
import { presentDeployment, presentEnvironment, type DeploymentResponse } from './environment-presenters.js';
import { baseUrl, parseId, parsePage, setPaginationHeaders, str } from './http-helpers.js';
import { stopEnvironment } from './environment-stop.js';
import { presentJobs } from './job-routes.js';
import { presentUser } from './presenters.js';
import { auth, resolveProject } from './project-routes.js';

const STATES: readonly EnvironmentState[] = ['available', 'stopping', 'stopped'];
const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'created',
  'running',
  'success',
  'failed',
  'canceled',
  'skipped',
  'blocked',
];
const ORDER_BY = ['id', 'iid', 'created_at', 'updated_at', 'ref'] as const;
const MIN_SEARCH = 3;

function oneOf<T extends string>(
  query: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
): T | undefined {
  const value = str(query, key);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      `${key} does not have a valid value: use one of ${allowed.join(', ')}`,
      {
        details: { field: key, value },
      },
    );
  }
  return value as T;
}

function environmentFilter(query: Record<string, unknown>): EnvironmentFilter {
  const name = str(query, 'name');
  const search = str(query, 'search');
  if (name !== undefined && search !== undefined) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'name, search are mutually exclusive: give one of them');
  }
  if (search !== undefined && search.length < MIN_SEARCH) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `search must be at least ${MIN_SEARCH} characters`, {
      details: { field: 'search' },
    });
  }
  const state = oneOf(query, 'states', STATES);
  return {
    ...(name === undefined ? {} : { name }),
    ...(search === undefined ? {} : { search }),
    ...(state === undefined ? {} : { states: [state] }),
  };
}

async function projectOf(ctx: CoordinatorContext, request: FastifyRequest): Promise<ProjectRecord> {
  await auth(ctx, request);
  return resolveProject(ctx, (request.params as Record<string, string>)['id'], request);
}

async function presentDeployments(
  ctx: CoordinatorContext,
  project: ProjectRecord,
  rows: DeploymentRecord[],
): Promise<DeploymentResponse[]> {
  const out: DeploymentResponse[] = [];
  const environments = new Map<number, EnvironmentRecord | null>();
  for (const row of rows) {
    if (!environments.has(row.environmentId)) {
      environments.set(row.environmentId, await ctx.store.getEnvironment(row.environmentId));
    }
    const environment = environments.get(row.environmentId);
    if (!environment) continue;
    const job = await ctx.store.getJob(row.jobId);
    const [deployable] = job ? await presentJobs(ctx, [job], project) : [];
    const user = presentUser(await ctx.store.getUser(row.userId), baseUrl(ctx));
    out.push(presentDeployment(row, environment, user, deployable ?? null));
  }
  return out;
}

async function loadEnvironment(ctx: CoordinatorContext, project: ProjectRecord, idParam: unknown) {
  const environment = await ctx.store.getEnvironment(parseId(idParam, 'Environment'));
  if (!environment || environment.projectId !== project.id) {
    throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Environment Not Found');
  }
  return environment;
}

/** GitLab's `last_deployment`: the environment's latest successful deployment. */
async function lastDeployment(
  ctx: CoordinatorContext,
  project: ProjectRecord,
  environment: EnvironmentRecord,
) {
  const { items } = await ctx.store.listDeployments(
    project.id,
    { environmentId: environment.id, status: 'success', sort: 'desc' },
    { page: 1, perPage: 1 },
  );
  const [presented] = await presentDeployments(ctx, project, items);
  return presented ?? null;
}

async function deploymentFilter(
  ctx: CoordinatorContext,
  project: ProjectRecord,
  query: Record<string, unknown>,
): Promise<DeploymentFilter | null> {
  const status = oneOf(query, 'status', DEPLOYMENT_STATUSES);
  const orderBy = oneOf(query, 'order_by', ORDER_BY);
  const sort = oneOf(query, 'sort', ['asc', 'desc'] as const);
  const filter: DeploymentFilter = {
    ...(status === undefined ? {} : { status }),
    ...(orderBy === undefined ? {} : { orderBy }),
    ...(sort === undefined ? {} : { sort }),
  };
  const name = str(query, 'environment');
  if (name === undefined) return filter;
  const page = { page: 1, perPage: 1 };
  const [environment] = (await ctx.store.listEnvironments(project.id, { name }, page)).items;
  return environment ? { ...filter, environmentId: environment.id } : null;
}

export function registerEnvironmentRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get('/api/v4/projects/:id/environments', async (request, reply) => {
    const project = await projectOf(ctx, request);
    const query = request.query as Record<string, unknown>;
    const page = parsePage(query);
    const result = await ctx.store.listEnvironments(project.id, environmentFilter(query), page);
    setPaginationHeaders(request, reply, page, result, baseUrl(ctx));
    return result.items.map(presentEnvironment);
  });
  app.get('/api/v4/projects/:id/environments/:environment_id', async (request) => {
    const project = await projectOf(ctx, request);
    const params = request.params as Record<string, string>;
    const environment = await loadEnvironment(ctx, project, params['environment_id']);
    return {
      ...presentEnvironment(environment),
      last_deployment: await lastDeployment(ctx, project, environment),
    };
  });
  app.post('/api/v4/projects/:id/environments/:environment_id/stop', async (request, reply) => {
    const principal = await auth(ctx, request);
    const project = await resolveProject(ctx, (request.params as Record<string, string>)['id'], request);
    const params = request.params as Record<string, string>;
    const environment = await loadEnvironment(ctx, project, params['environment_id']);
    const body = {
      ...(request.query as Record<string, unknown>),
      ...((request.body as object | null) ?? {}),
    };
    const force = String((body as Record<string, unknown>)['force']) === 'true';
    const stopped = await stopEnvironment(ctx, project, environment, { userId: principal.user.id, force });
    return reply.code(201).send(presentEnvironment(stopped));
  });
  app.get('/api/v4/projects/:id/deployments', async (request, reply) => {
    const project = await projectOf(ctx, request);
    const query = request.query as Record<string, unknown>;
    const page = parsePage(query);
    const filter = await deploymentFilter(ctx, project, query);
    const result = filter
      ? await ctx.store.listDeployments(project.id, filter, page)
      : { items: [], total: 0 };
    setPaginationHeaders(request, reply, page, result, baseUrl(ctx));
    return presentDeployments(ctx, project, result.items);
  });
}
