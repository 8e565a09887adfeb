/** Page → LIMIT/OFFSET, and count values as numbers. */
import { FlotillaError } from '../../../shared/errors.js';
import type { Page } from '../store.js';
import { fromBigint } from './rows.js';

export function pageBounds(page: Page): { limit: number; offset: number } {
  if (!Number.isInteger(page.page) || page.page < 1 || !Number.isInteger(page.perPage) || page.perPage < 1) {
    throw new FlotillaError('FLO_ERR_BAD_REQUEST', 'page and perPage must be positive integers', {
      details: { page: page.page, perPage: page.perPage },
    });
  }
  return { limit: page.perPage, offset: (page.page - 1) * page.perPage };
}

/** The `total` of a `count(*) as total` row (a string on PostgreSQL). */
export function totalOf(row: { total: number | string | bigint } | undefined): number {
  return row === undefined ? 0 : fromBigint(row.total);
}
