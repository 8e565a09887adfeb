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
  setPageLinks(request, reply, base, page, { hasNext: page.page < totalPages, lastPage: totalPages });
}

/**
 * X-Next-Page, X-Prev-Page and the `Link` header (prev, next, first, and last when the number of
 * pages is known) of a page: the request's URL with `page` and `per_page` set.
 */
export function setPageLinks(
  request: FastifyRequest,
  reply: FastifyReply,
  base: string,
  page: Page,
  pages: { hasNext: boolean; lastPage?: number },
): void {
  reply.header('X-Next-Page', pages.hasNext ? String(page.page + 1) : '');
  reply.header('X-Prev-Page', page.page > 1 ? String(page.page - 1) : '');
  const url = new URL(request.url, base);
  const link = (p: number, rel: string): string => {
    url.searchParams.set('page', String(p));
    url.searchParams.set('per_page', String(page.perPage));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links = [];
  if (page.page > 1) links.push(link(page.page - 1, 'prev'));
  if (pages.hasNext) links.push(link(page.page + 1, 'next'));
  links.push(link(1, 'first'));
  if (pages.lastPage !== undefined) links.push(link(pages.lastPage, 'last'));
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

const TRUE_WORDS = new Set(['1', 'true', 't', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'f', 'no', 'n', 'off']);

/**
 * A boolean parameter as GitLab (Grape) coerces it: any case of true/false, t/f, yes/no, y/n,
 * on/off, 1/0 (python-gitlab sends Python's `True`/`False`); undefined when absent or empty,
 * null for anything else.
 */
export function parseBoolean(v: unknown): boolean | undefined | null {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  const word = String(v).toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return null;
}

export function bool(body: Body, key: string): boolean | undefined {
  const parsed = parseBoolean(body[key]);
  if (parsed !== null) return parsed;
  throw new FlotillaError('FLO_ERR_BAD_REQUEST', `${key} is invalid: use true or false`, {
    details: { field: key },
  });
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
