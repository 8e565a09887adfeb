/**
 * REST: personal access tokens, as GitLab has them.
 * - `GET /api/v4/personal_access_tokens/self`: the token used in the request;
 * - `DELETE /api/v4/personal_access_tokens/self`: revokes the token used in the request (204);
 * - `DELETE /api/v4/personal_access_tokens/:id`: revokes a token (204); an admin may revoke any
 *   token, another user only their own (`400 Bad request - Not permitted to revoke`, as GitLab).
 * A revoked token never authenticates again (401 on every route). A web UI session is bound to
 * the token it was signed in with, so revoking that token ends the session too.
 */
import type { FastifyInstance } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import type { CoordinatorContext } from '../context.js';
import type { AccessTokenRecord } from '../store/store.js';
import { parseId } from './http-helpers.js';
import { auth } from './project-routes.js';

/** GitLab's personal access token object (without `token`, which is shown only at creation). */
export function presentAccessToken(token: AccessTokenRecord, now: Date): Record<string, unknown> {
  const expired = token.expiresAt !== null && token.expiresAt.getTime() < now.getTime();
  return {
    id: token.id,
    name: token.name,
    revoked: token.revoked,
    created_at: token.createdAt.toISOString(),
    scopes: token.scopes,
    user_id: token.userId,
    last_used_at: null,
    active: !token.revoked && !expired,
    expires_at: token.expiresAt ? token.expiresAt.toISOString().slice(0, 10) : null,
  };
}

export function registerAccessTokenRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.get('/api/v4/personal_access_tokens/self', async (request) => {
    const principal = await auth(ctx, request);
    return presentAccessToken(principal.token, ctx.clock.now());
  });
  app.delete('/api/v4/personal_access_tokens/self', async (request, reply) => {
    const principal = await auth(ctx, request);
    await ctx.store.revokeAccessToken(principal.token.id);
    return reply.code(204).send();
  });
  app.delete('/api/v4/personal_access_tokens/:id', async (request, reply) => {
    const principal = await auth(ctx, request);
    const id = parseId((request.params as Record<string, string>)['id'], 'PersonalAccessToken');
    const token = await ctx.store.getAccessToken(id);
    if (!token) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 PersonalAccessToken Not Found');
    if (!principal.user.admin && token.userId !== principal.user.id)
      throw new FlotillaError('FLO_ERR_BAD_REQUEST', '400 Bad request - Not permitted to revoke');
    await ctx.store.revokeAccessToken(id);
    return reply.code(204).send();
  });
}
