/**
 * The web UI: the page at `/` (and its client-side routes under `/-/ui/`), its static files, and
 * the session endpoints. The page itself uses only the public REST API (with the session cookie
 * and its CSRF token) plus the job log stream; the session endpoints are the UI's only own API.
 *
 * - `POST /-/session` `{ "token": "<personal access token>" }`: checks the token and sets the
 *   session cookie; answers the user and the CSRF token.
 * - `GET /-/session`: the signed-in user and CSRF token, or 401.
 * - `DELETE /-/session`: signs out (needs the CSRF token).
 */
import { readFile } from 'node:fs/promises';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import { hashToken } from '../../shared/hash.js';
import { findPrincipal, findSession, type Principal } from '../auth.js';
import type { CoordinatorContext } from '../context.js';
import { bodyOf, str } from '../routes/http-helpers.js';
import { encodeSession, newCsrfToken, sessionCookie } from './session.js';
import { ASSETS_PREFIX, contentTypeOf, fileInside, locateUiAssets, type UiAssets } from './ui-assets.js';
import { renderIndexHtml } from './index-html.js';

const DEFAULT_SESSION_HOURS = 12;

function isTls(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

function presentSessionUser(principal: Principal, csrf: string): Record<string, unknown> {
  const { user } = principal;
  return {
    user: { id: user.id, username: user.username, name: user.name, is_admin: user.admin },
    csrf_token: csrf,
  };
}

async function signIn(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const token = str(bodyOf(request), 'token');
  if (!token) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'token is missing: paste a personal access token', {
      details: { fields: { token: ['is missing: paste a personal access token (PRIVATE-TOKEN)'] } },
    });
  }
  const principal = await findPrincipal(ctx.store, token, ctx.clock.now());
  if (!principal) {
    throw new FlotillaError(
      'FLO_ERR_UNAUTHORIZED',
      '401 Unauthorized - this token is unknown, revoked or expired; create a personal access token and try again',
    );
  }
  const hours = ctx.config.sessionHours ?? DEFAULT_SESSION_HOURS;
  let expiresAtMs = ctx.clock.now().getTime() + hours * 3600_000;
  const tokenEnd = principal.token.expiresAt?.getTime();
  if (tokenEnd !== undefined) expiresAtMs = Math.min(expiresAtMs, tokenEnd);
  const csrf = newCsrfToken();
  const value = encodeSession({ tokenHash: hashToken(token), expiresAtMs, csrf }, ctx.sessionSecret);
  const maxAgeSeconds = Math.max(1, Math.floor((expiresAtMs - ctx.clock.now().getTime()) / 1000));
  reply.header('set-cookie', sessionCookie(value, { secure: isTls(request), maxAgeSeconds }));
  return reply.code(201).send(presentSessionUser(principal, csrf));
}

async function currentSession(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  const check = { secret: ctx.sessionSecret, method: 'GET' };
  const session = await findSession(ctx.store, request.headers, check, ctx.clock.now());
  if (!session) return reply.code(401).send({ message: '401 Unauthorized' });
  return presentSessionUser(session.principal, session.claims.csrf);
}

async function signOut(ctx: CoordinatorContext, request: FastifyRequest, reply: FastifyReply) {
  // Checks the CSRF token of a session cookie; signing out without one just clears the cookie.
  await findSession(
    ctx.store,
    request.headers,
    { secret: ctx.sessionSecret, method: 'DELETE' },
    ctx.clock.now(),
  );
  reply.header('set-cookie', sessionCookie('', { secure: isTls(request), maxAgeSeconds: 0 }));
  return reply.code(204).send();
}

async function serveFile(reply: FastifyReply, file: string | null | undefined) {
  const type = file ? contentTypeOf(file) : undefined;
  if (!file || !type) return reply.code(404).send({ message: '404 Not Found' });
  try {
    const body = await readFile(file);
    return reply.type(type).header('cache-control', 'no-cache').send(body);
  } catch {
    return reply.code(404).send({ message: '404 Not Found' });
  }
}

function servePage(assets: UiAssets, reply: FastifyReply) {
  if (!assets.appDir) {
    return reply
      .code(503)
      .type('text/plain; charset=utf-8')
      .send('The web UI is not built: run `npm run build` (it writes dist/ui), then reload.\n');
  }
  const page = renderIndexHtml(assets.importMap);
  return reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header(
      'content-security-policy',
      `default-src 'self'; script-src 'self' 'sha256-${page.importMapHash}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'`,
    )
    .header('x-frame-options', 'DENY')
    .send(page.html);
}

export function registerUiRoutes(app: FastifyInstance, ctx: CoordinatorContext): void {
  const assets = locateUiAssets();
  app.post('/-/session', (request, reply) => signIn(ctx, request, reply));
  app.get('/-/session', (request, reply) => currentSession(ctx, request, reply));
  app.delete('/-/session', (request, reply) => signOut(ctx, request, reply));
  app.get('/', (_request, reply) => servePage(assets, reply));
  app.get(`${ASSETS_PREFIX}vendor/:file`, (request, reply) =>
    serveFile(reply, assets.vendor.get((request.params as Record<string, string>)['file'] ?? '')),
  );
  app.get(`${ASSETS_PREFIX}app/*`, (request, reply) => {
    const rest = (request.params as Record<string, string>)['*'] ?? '';
    return serveFile(reply, assets.appDir ? fileInside(assets.appDir, rest) : null);
  });
}
