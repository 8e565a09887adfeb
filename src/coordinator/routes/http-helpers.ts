/** Small helpers shared by route modules: pagination headers, id parsing, body field readers. */
import type { FastifyReply, FastifyRequest } from 'fastify';

import { FlotillaError } from '../../shared/errors.js';
import type { Page, Paged } from '../store/store.js';

export function parsePage(query: Record<string, unknown>): Page {
  const page = Math.max(1, Number.parseInt(String(query['page'] ?? '1'), 10) || 1);
  const perPage = Math.min(100, Math.max(1, Number.parseInt(String(query['per_page'] ?? '20'), 10) || 20));
  return { page, perPage };
}

/** Sets GitLab's pagination headers (X-Page, X-Total, Link...). */
export function setPaginationHeaders(
  request: FastifyRequest,
  reply: FastifyReply,
  page: Page,
  result: Paged<unknown>,
  base: string,
): void {
  const totalPages = Math.max(1, Math.ceil(result.total / page.perPage));
  reply.header('X-Page', String(page.page));
  reply.header('X-Per-Page', String(page.perPage));
  reply.header('X-Total', String(result.total));
  reply.header('X-Total-Pages', String(totalPages));
  reply.header('X-Next-Page', page.page < totalPages ? String(page.page + 1) : '');
  reply.header('X-Prev-Page', page.page > 1 ? String(page.page - 1) : '');
  const url = new URL(request.url, base);
  const link = (p: number, rel: string): string => {
    url.searchParams.set('page', String(p));
    url.searchParams.set('per_page', String(page.perPage));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links = [];
  if (page.page > 1) links.push(link(page.page - 1, 'prev'));
  if (page.page < totalPages) links.push(link(page.page + 1, 'next'));
  links.push(link(1, 'first'), link(totalPages, 'last'));
  reply.header('Link', links.join(', '));
}

export function parseId(value: unknown, name = 'id'): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new FlotillaError('FLO_ERR_NOT_FOUND', `404 ${name} Not Found`);
  }
  return n;
}

export type Body = Record<string, unknown>;

export function bodyOf(request: FastifyRequest): Body {
  const b = request.body;
  return b && typeof b === 'object' && !Buffer.isBuffer(b) ? (b as Body) : {};
}

export function str(body: Body, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new FlotillaError('FLO_ERR_BAD_REQUEST', `${key} is invalid`, { details: { field: key } });
}

export function bool(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1' || v === 1) return true;
  if (v === 'false' || v === '0' || v === 0) return false;
  throw new FlotillaError('FLO_ERR_BAD_REQUEST', `${key} is invalid`, { details: { field: key } });
}

export function int(body: Body, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', `${key} is invalid`, { details: { field: key } });
  }
  return n;
}

/** `tag_list` as GitLab accepts it: an array or a comma-separated string. */
export function tagList(body: Body, key = 'tag_list'): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return items.map((t) => t.trim()).filter((t) => t.length > 0);
}

export function headerString(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The coordinator's external base URL without a trailing slash (read per request: it is set after listen). */
export function baseUrl(ctx: { config: { externalUrl: string } }): string {
  return ctx.config.externalUrl.replace(/\/$/, '');
}
