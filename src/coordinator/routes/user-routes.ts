/** REST: the current user, users (list, show), and the instance's version and metadata. */
import type { FastifyInstance } from 'fastify';

import type { VersionResponse } from '../../api/rest-api.js';
import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type { UserFilter } from '../store/store.js';
import { baseUrl, parseId, parsePage, setPaginationHeaders, str } from './http-helpers.js';
import { auth } from './project-routes.js';
import {
  GITLAB_API_VERSION,
  presentCurrentUser,
  presentUserBasic,
  presentUserPublic,
} from './user-presenters.js';

function versionOf(ctx: CoordinatorContext): VersionResponse {
  return {
    version: `${GITLAB_API_VERSION}-flotilla`,
    revision: `flotilla-${ctx.config.version}`,
    kas: { enabled: false, externalUrl: null, externalK8sProxyUrl: null, version: null },
    enterprise: false,
  };
}

function userFilter(query: Record<string, unknown>): UserFilter {
  const username = str(query, 'username');
  const search = str(query, 'search');
  return {
    ...(username === undefined ? {} : { username }),
    ...(search === undefined || search === '' ? {} : { search }),
  };
}

export function registerUserRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const base = (): string => baseUrl(ctx);
  app.get('/api/v4/user', async (request) => {
    const principal = await auth(ctx, request);
    return presentCurrentUser(principal.user, base());
  });
  app.get('/api/v4/users', async (request, reply) => {
    const principal = await auth(ctx, request);
    const query = request.query as Record<string, unknown>;
    const page = parsePage(query);
    const result = await ctx.store.listUsers(userFilter(query), page);
    setPaginationHeaders(request, reply, page, result, base());
    return result.items.map((u) =>
      principal.user.admin
        ? { ...presentUserPublic(u, base()), is_admin: u.admin }
        : presentUserBasic(u, base()),
    );
  });
  app.get('/api/v4/users/:id', async (request) => {
    const principal = await auth(ctx, request);
    const id = parseId((request.params as Record<string, string>)['id'], 'User');
    const user = await ctx.store.getUser(id);
    if (!user) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 User Not Found');
    const shown = presentUserPublic(user, base());
    return principal.user.admin ? { ...shown, is_admin: user.admin } : shown;
  });
  app.get('/api/v4/version', async (request) => {
    await auth(ctx, request);
    return versionOf(ctx);
  });
  app.get('/api/v4/metadata', async (request) => {
    await auth(ctx, request);
    return versionOf(ctx);
  });
}
