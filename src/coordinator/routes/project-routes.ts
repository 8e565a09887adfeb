/** REST: projects (create, list, show). Creating a project also creates its git repository. */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import { requirePrincipal, type Principal } from '../auth.js';
import type { CoordinatorContext } from '../context.js';
import type { ProjectRecord } from '../store/store.js';
import { bodyOf, parsePage, setPaginationHeaders, str, type Body, baseUrl } from './http-helpers.js';
import { presentProject } from './presenters.js';

const PATH_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
export const VISIBILITIES = ['private', 'internal', 'public'] as const;

/** The principal each authenticated request acted as, for project visibility. */
const principals = new WeakMap<FastifyRequest, Principal>();

export async function auth(ctx: CoordinatorContext, request: FastifyRequest): Promise<Principal> {
  const principal = await requirePrincipal(
    ctx.store,
    request.headers,
    request.query as Record<string, unknown>,
    ctx.clock.now(),
    { secret: ctx.sessionSecret, method: request.method },
  );
  principals.set(request, principal);
  return principal;
}

/**
 * GitLab's visibility without memberships: a private project is seen by its creator and admins,
 * an internal or public one by every signed-in user. Others get the same 404 as a missing project.
 */
export function canSeeProject(principal: Principal, project: ProjectRecord): boolean {
  return principal.user.admin || project.visibility !== 'private' || project.creatorId === principal.user.id;
}

/**
 * `:id` is a numeric id or a URL-encoded `namespace/path`. When the request was authenticated
 * with a user's token, a project that user may not see is not found.
 */
export async function resolveProject(
  ctx: CoordinatorContext,
  idParam: string | undefined,
  request?: FastifyRequest,
): Promise<ProjectRecord> {
  const raw = decodeURIComponent(idParam ?? '');
  let project: ProjectRecord | null = null;
  if (/^\d+$/.test(raw)) {
    project = await ctx.store.getProject(Number(raw));
  } else {
    const i = raw.lastIndexOf('/');
    if (i > 0) project = await ctx.store.findProjectByPath(raw.slice(0, i), raw.slice(i + 1));
  }
  const viewer = request ? principals.get(request) : undefined;
  if (!project || (viewer && !canSeeProject(viewer, project))) {
    throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Project Not Found');
  }
  return project;
}

function slugPath(name: string): string {
  return name
    .trim()
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .toLowerCase();
}

export function validationError(fields: Record<string, string[]>): FlotillaError {
  return new FlotillaError('FLO_ERR_BAD_REQUEST', 'validation failed', { details: { fields } });
}

function readProjectInput(body: Body) {
  const name = str(body, 'name');
  const pathInput = str(body, 'path');
  if (!name && !pathInput)
    throw new FlotillaError(
      'FLO_ERR_BAD_REQUEST',
      'name, path are missing, at least one parameter must be provided',
    );
  const path = pathInput ?? slugPath(name ?? '');
  const fields: Record<string, string[]> = {};
  if (!PATH_RE.test(path) || path.endsWith('.git') || path.endsWith('.atom')) {
    fields['path'] = [
      "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'",
    ];
  }
  const visibility = str(body, 'visibility') ?? 'private';
  if (!(VISIBILITIES as readonly string[]).includes(visibility)) {
    fields['visibility'] = ['does not have a valid value'];
  }
  if (Object.keys(fields).length > 0) throw validationError(fields);
  return {
    name: name ?? path,
    path,
    description: str(body, 'description') ?? null,
    defaultBranch: str(body, 'default_branch') ?? 'main',
    visibility: visibility as (typeof VISIBILITIES)[number],
    ciConfigPath: str(body, 'ci_config_path') ?? null,
  };
}

async function createProject(
  ctx: CoordinatorContext,
  request: FastifyRequest,
  principal: Principal,
): Promise<ProjectRecord> {
  const input = readProjectInput(bodyOf(request));
  const namespacePath = principal.user.username;
  if (await ctx.store.findProjectByPath(namespacePath, input.path)) {
    throw validationError({
      'project_namespace.name': ['has already been taken'],
      name: ['has already been taken'],
      path: ['has already been taken'],
    });
  }
  await ctx.git.createRepository(`${namespacePath}/${input.path}`, input.defaultBranch);
  const project = await ctx.store.createProject({
    ...input,
    namespacePath,
    protectedBranches: [input.defaultBranch],
    creatorId: principal.user.id,
  });
  ctx.logger.info({ projectId: project.id, path: `${namespacePath}/${input.path}` }, 'project created');
  return project;
}

export function registerProjectRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const base = (): string => baseUrl(ctx);
  app.post('/api/v4/projects', async (request, reply) => {
    const principal = await auth(ctx, request);
    const project = await createProject(ctx, request, principal);
    return reply.code(201).send(presentProject(project, base()));
  });
  app.get('/api/v4/projects', async (request, reply) => {
    const principal = await auth(ctx, request);
    const page = parsePage(request.query as Record<string, unknown>);
    const viewer = principal.user.admin ? {} : { visibleToUserId: principal.user.id };
    const result = await ctx.store.listProjects(page, viewer);
    setPaginationHeaders(request, reply, page, result, base());
    return result.items.map((p) => presentProject(p, base()));
  });
  app.get('/api/v4/projects/:id', async (request) => {
    await auth(ctx, request);
    const project = await resolveProject(ctx, (request.params as Record<string, string>)['id'], request);
    return presentProject(project, base());
  });
}
