/**
 * REST (admin only, as in GitLab): create users and their personal access tokens.
 * - `POST /api/v4/users` `username`, `name` (required), `email` (accepted, not stored), `admin`;
 * - `POST /api/v4/users/:user_id/personal_access_tokens` `name`, `scopes` (required), `expires_at`
 *   (`YYYY-MM-DD`); the answer carries the token, shown once.
 */
import type { FastifyInstance } from 'fastify';

import { ACCESS_TOKEN_PREFIX } from '../../api/runner-api.js';
import { FlotillaError } from '../../shared/errors.js';
import { hashToken, newToken } from '../../shared/hash.js';
import { requireAdmin } from '../auth.js';
import type { CoordinatorContext } from '../context.js';
import { baseUrl, bodyOf, bool, parseId, str, type Body } from './http-helpers.js';
import { auth } from './project-routes.js';
import { presentUserPublic } from './user-presenters.js';

const USERNAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const SCOPES = [
  'api',
  'read_api',
  'read_user',
  'read_repository',
  'write_repository',
  'create_runner',
  'manage_runner',
];

function invalid(fields: Record<string, string[]>): FlotillaError {
  return new FlotillaError('FLO_ERR_BAD_REQUEST', Object.keys(fields).join(', ') + ' is invalid', {
    details: { fields },
  });
}

function scopesOf(body: Body): string[] {
  const raw = body['scopes'] ?? body['scopes[]'];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [];
  const scopes = list.map((s) => String(s).trim()).filter((s) => s !== '');
  if (scopes.length === 0) throw invalid({ scopes: ['is missing'] });
  const unknown = scopes.filter((s) => !SCOPES.includes(s));
  if (unknown.length > 0)
    throw invalid({
      scopes: [`does not have a valid value (${unknown.join(', ')}); use ${SCOPES.join(', ')}`],
    });
  return scopes;
}

function expiryOf(body: Body): Date | null {
  const raw = str(body, 'expires_at');
  if (raw === undefined) return null;
  const at = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? new Date(`${raw}T00:00:00Z`) : new Date(NaN);
  if (Number.isNaN(at.getTime())) throw invalid({ expires_at: ['is not a date (YYYY-MM-DD)'] });
  return at;
}

export function registerUserAdminRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  app.post('/api/v4/users', async (request, reply) => {
    requireAdmin(await auth(ctx, request));
    const body = bodyOf(request);
    const username = str(body, 'username');
    const name = str(body, 'name');
    const fields: Record<string, string[]> = {};
    if (!username) fields['username'] = ['is missing'];
    else if (!USERNAME_RE.test(username))
      fields['username'] = ['can contain only letters, digits, _, - and .'];
    if (!name) fields['name'] = ['is missing'];
    if (Object.keys(fields).length > 0 || !username || !name) throw invalid(fields);
    const user = await ctx.store.createUser({ username, name, admin: bool(body, 'admin') ?? false });
    return reply.code(201).send({ ...presentUserPublic(user, baseUrl(ctx)), is_admin: user.admin });
  });
  app.post('/api/v4/users/:user_id/personal_access_tokens', async (request, reply) => {
    requireAdmin(await auth(ctx, request));
    const userId = parseId((request.params as Record<string, string>)['user_id'], 'User');
    const user = await ctx.store.getUser(userId);
    if (!user) throw new FlotillaError('FLO_ERR_NOT_FOUND', '404 User Not Found');
    const body = bodyOf(request);
    const name = str(body, 'name');
    if (!name) throw invalid({ name: ['is missing'] });
    const scopes = scopesOf(body);
    const expiresAt = expiryOf(body);
    const token = newToken(ACCESS_TOKEN_PREFIX);
    const record = await ctx.store.createAccessToken({
      userId,
      name,
      tokenHash: hashToken(token),
      scopes,
      expiresAt,
    });
    return reply.code(201).send({
      id: record.id,
      name: record.name,
      revoked: false,
      created_at: record.createdAt.toISOString(),
      scopes: record.scopes,
      user_id: userId,
      active: true,
      expires_at: expiresAt ? expiresAt.toISOString().slice(0, 10) : null,
      token,
    });
  });
}
