/**
 * Authentication as GitLab does it: personal/root access tokens (`PRIVATE-TOKEN`, `Authorization:
 * Bearer`, `private_token`), runner tokens (`glrt-`) and job tokens (`glcbt-`, valid only while
 * their job runs). Only token hashes are stored; lookups go by hash, so no secret is compared in
 * variable time.
 */
import type { IncomingHttpHeaders } from 'node:http';

import { FlotillaError } from '../shared/errors.js';
import { hashToken } from '../shared/hash.js';
import { runnerTokenHashes } from './token-hashes.js';
import type {
  AccountStore,
  AccessTokenRecord,
  JobRecord,
  PipelineStore,
  RunnerRecord,
  RunnerStore,
  UserRecord,
} from './store/store.js';
import {
  CSRF_HEADER,
  SESSION_COOKIE,
  cookieValue,
  csrfMatches,
  decodeSession,
  type SessionClaims,
} from './ui/session.js';

export interface Principal {
  user: UserRecord;
  token: AccessTokenRecord;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The access token from PRIVATE-TOKEN, Authorization: Bearer, or ?private_token=. */
export function accessTokenFrom(
  headers: IncomingHttpHeaders,
  query: Record<string, unknown>,
): string | undefined {
  const direct = headerValue(headers, 'private-token');
  if (direct) return direct;
  const auth = headerValue(headers, 'authorization');
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  const q = query['private_token'] ?? query['access_token'];
  return typeof q === 'string' ? q : undefined;
}

/** Basic auth credentials, for git over HTTP. */
export function basicCredentials(
  headers: IncomingHttpHeaders,
): { username: string; password: string } | null {
  const auth = headerValue(headers, 'authorization');
  if (!auth?.toLowerCase().startsWith('basic ')) return null;
  const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export async function findPrincipal(
  store: AccountStore,
  token: string | undefined,
  now: Date,
): Promise<Principal | null> {
  if (!token) return null;
  return findPrincipalByHash(store, hashToken(token), now);
}

async function findPrincipalByHash(
  store: AccountStore,
  tokenHash: string,
  now: Date,
): Promise<Principal | null> {
  const record = await store.findAccessTokenByHash(tokenHash);
  if (!record || record.revoked) return null;
  if (record.expiresAt && record.expiresAt.getTime() < now.getTime()) return null;
  const user = await store.getUser(record.userId);
  return user ? { user, token: record } : null;
}

/** How a web UI session cookie is checked: its signing secret and the request's method. */
export interface SessionCheck {
  secret: Buffer;
  method: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The user of a web UI session cookie. A state-changing request made with the cookie must carry
 * the session's CSRF token (as GitLab's UI does), or it is refused with 403.
 */
export async function findSession(
  store: AccountStore,
  headers: IncomingHttpHeaders,
  check: SessionCheck,
  now: Date,
): Promise<{ principal: Principal; claims: SessionClaims } | null> {
  const value = cookieValue(headerValue(headers, 'cookie'), SESSION_COOKIE);
  const claims = value ? decodeSession(value, check.secret, now.getTime()) : null;
  if (!claims) return null;
  if (
    !SAFE_METHODS.has(check.method.toUpperCase()) &&
    !csrfMatches(claims, headerValue(headers, CSRF_HEADER))
  ) {
    throw new FlotillaError(
      'FLO_ERR_FORBIDDEN',
      '403 Forbidden - missing or wrong X-CSRF-Token for this session',
      {
        details: { header: 'X-CSRF-Token' },
      },
    );
  }
  const principal = await findPrincipalByHash(store, claims.tokenHash, now);
  return principal ? { principal, claims } : null;
}

export async function requirePrincipal(
  store: AccountStore,
  headers: IncomingHttpHeaders,
  query: Record<string, unknown>,
  now: Date,
  session?: SessionCheck,
): Promise<Principal> {
  const token = accessTokenFrom(headers, query);
  const principal = token
    ? await findPrincipal(store, token, now)
    : session
      ? ((await findSession(store, headers, session, now))?.principal ?? null)
      : null;
  if (!principal) throw new FlotillaError('FLO_ERR_UNAUTHORIZED', '401 Unauthorized');
  return principal;
}

export function requireAdmin(principal: Principal): void {
  if (!principal.user.admin) throw new FlotillaError('FLO_ERR_FORBIDDEN', '403 Forbidden');
}

export async function findRunner(
  store: RunnerStore,
  token: string | undefined,
): Promise<RunnerRecord | null> {
  if (!token) return null;
  return store.findRunnerByTokenHash(runnerTokenHashes.hash(token));
}

/** The job whose token this is, if that job is still running (or canceling). */
export async function findActiveJob(
  store: PipelineStore,
  token: string | undefined,
): Promise<JobRecord | null> {
  if (!token) return null;
  const job = await store.findJobByTokenHash(runnerTokenHashes.hash(token));
  if (!job || (job.status !== 'running' && job.status !== 'canceling')) return null;
  return job;
}
