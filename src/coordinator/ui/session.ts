/**
 * Web UI sessions: a signed, stateless cookie that names the access token the user signed in with
 * (by its stored hash, never the token itself), when the session ends, and the CSRF token every
 * state-changing request made with the cookie must repeat in `X-CSRF-Token`.
 *
 * The cookie is `HttpOnly` and `SameSite=Strict`, and `Secure` when the request came over TLS.
 * Every request re-reads the access token, so revoking or expiring it ends its sessions at once.
 * Coordinator replicas share sessions when they share `sessionSecret`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'flotilla_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionClaims {
  /** Hash of the access token the session was opened with. */
  tokenHash: string;
  /** Session end, in ms since the epoch. */
  expiresAtMs: number;
  csrf: string;
}

function sign(payload: string, secret: Buffer): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function newCsrfToken(): string {
  return randomBytes(18).toString('base64url');
}

export function encodeSession(claims: SessionClaims, secret: Buffer): string {
  const payload = Buffer.from(
    JSON.stringify({ h: claims.tokenHash, e: claims.expiresAtMs, c: claims.csrf }),
  ).toString('base64url');
  return `${payload}.${sign(payload, secret)}`;
}

/** The claims of a cookie value whose signature holds and whose end has not passed, else null. */
export function decodeSession(value: string, secret: Buffer, nowMs: number): SessionClaims | null {
  const dot = value.indexOf('.');
  if (dot <= 0) return null;
  const payload = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1));
  const wanted = Buffer.from(sign(payload, secret));
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return null;
  try {
    const raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { h, e, c } = raw;
    if (typeof h !== 'string' || typeof e !== 'number' || typeof c !== 'string') return null;
    if (e <= nowMs) return null;
    return { tokenHash: h, expiresAtMs: e, csrf: c };
  } catch {
    return null;
  }
}

/** The value of one cookie from a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  secure: boolean;
  /** Seconds; 0 clears the cookie. */
  maxAgeSeconds: number;
}

export function sessionCookie(value: string, options: CookieOptions): string {
  const parts = [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${options.maxAgeSeconds}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** True when `given` equals the session's CSRF token (constant time). */
export function csrfMatches(claims: SessionClaims, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(claims.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
