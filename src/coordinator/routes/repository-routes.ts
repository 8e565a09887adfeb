/** REST: GitLab's repository API (branches, tags, commits, compare, files, tree) over the hosted repositories. */
import type { FastifyInstance } from 'fastify';

import type { CoordinatorContext } from '../context.js';
import { registerRepositoryCommitRoutes } from './repository-commit-routes.js';
import { registerRepositoryFileRoutes } from './repository-file-routes.js';
import { registerRepositoryRefRoutes } from './repository-ref-routes.js';

export function registerRepositoryRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  registerRepositoryRefRoutes(app, ctx);
  registerRepositoryCommitRoutes(app, ctx);
  registerRepositoryFileRoutes(app, ctx);
}
