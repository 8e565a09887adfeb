/** REST: editing and deleting a project (`PUT` / `DELETE /projects/:id`). */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import type { Principal } from '../auth.js';
import type { CoordinatorContext } from '../context.js';
import type { ProjectPatch, ProjectRecord } from '../store/store.js';
import { baseUrl, bodyOf, str, type Body } from './http-helpers.js';
import { presentProject } from './presenters.js';
import { auth, resolveProject, validationError, VISIBILITIES } from './project-routes.js';

/** GitLab lets owners edit and delete; here that is the project's creator or an administrator. */
function requireOwner(principal: Principal, project: ProjectRecord): void {
  if (principal.user.admin || principal.user.id === project.creatorId) return;
  throw new FlotillaError(
    'FLO_ERR_FORBIDDEN',
    '403 Forbidden - only the project creator or an administrator may change or delete it',
  );
}

function readPatch(body: Body): ProjectPatch {
  const patch: ProjectPatch = {};
  const fields: Record<string, string[]> = {};
  const name = str(body, 'name');
  if (name !== undefined) {
    if (name.trim() === '') fields['name'] = ["can't be blank"];
    patch.name = name;
  }
  if (body['description'] !== undefined) patch.description = str(body, 'description') ?? null;
  const branch = str(body, 'default_branch');
  if (branch !== undefined) {
    if (!/^[^\s~^:?*[\\]+$/.test(branch)) fields['default_branch'] = ['is not a valid branch name'];
    patch.defaultBranch = branch;
  }
  const visibility = str(body, 'visibility');
  if (visibility !== undefined) {
    if (!(VISIBILITIES as readonly string[]).includes(visibility)) {
      fields['visibility'] = [`does not have a valid value (use ${VISIBILITIES.join(', ')})`];
    } else {
      patch.visibility = visibility as ProjectPatch['visibility'];
    }
  }
  if (body['ci_config_path'] !== undefined) patch.ciConfigPath = str(body, 'ci_config_path') || null;
  if (Object.keys(fields).length > 0) throw validationError(fields);
  return patch;
}

async function target(ctx: CoordinatorContext, request: FastifyRequest) {
  const principal = await auth(ctx, request);
  const project = await resolveProject(ctx, (request.params as Record<string, string>)['id'], request);
  requireOwner(principal, project);
  return project;
}

/** Removes the project's rows, then its repository and its jobs' artifact files. */
async function deleteProject(ctx: CoordinatorContext, project: ProjectRecord): Promise<void> {
  const { items } = await ctx.store.listJobs({ projectId: project.id, includeRetried: true });
  if (!(await ctx.store.deleteProject(project.id))) return;
  const fullPath = `${project.namespacePath}/${project.path}`;
  await ctx.git.deleteRepository(fullPath);
  await ctx.artifacts.removeJobs(items.map((j) => j.id));
  ctx.logger.info({ projectId: project.id, path: fullPath, jobs: items.length }, 'project deleted');
}

export function registerProjectEditRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.put('/api/v4/projects/:id', async (request) => {
    const project = await target(ctx, request);
    const updated = await ctx.store.updateProject(project.id, readPatch(bodyOf(request)));
    if (!updated) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 Project Not Found');
    return presentProject(updated, baseUrl(ctx));
  });
  app.delete('/api/v4/projects/:id', async (request, reply) => {
    const project = await target(ctx, request);
    await deleteProject(ctx, project);
    return reply.code(202).send({ message: '202 Accepted' });
  });
}
