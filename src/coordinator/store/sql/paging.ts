/** Page → LIMIT/OFFSET, and count values as numbers. */
import type { Selectable, SelectQueryBuilder, StringReference } from 'kysely';
import { FlotillaError } from '../../../shared/errors.js';
import type { Page } from '../store.js';
import { fromBigint } from './rows.js';
import type { Database } from './schema.js';

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

/** Tables whose rows have an `id` (the tie-breaker of every ordered page). */
type TableWithId = { [T in keyof Database]: Database[T] extends { id: unknown } ? T : never }[keyof Database];

/**
 * One page of `base`'s rows ordered by `column` then by id (when the column is not id, for a
 * stable order), with the number of all of `base`'s rows.
 */
export async function orderedPage<T extends TableWithId>(
  base: SelectQueryBuilder<Database, T, object>,
  column: StringReference<Database, T> & string,
  direction: 'asc' | 'desc',
  page: Page,
): Promise<{ rows: Selectable<Database[T]>[]; total: number }> {
  const { limit, offset } = pageBounds(page);
  const count = await base.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirst();
  const rows = await base
    .selectAll()
    .orderBy(column, direction)
    .$if(column !== 'id', (qb) => qb.orderBy('id' as StringReference<Database, T>, direction))
    .limit(limit)
    .offset(offset)
    .execute();
  // selectAll() on one table is its Selectable row; kysely cannot show it for a generic table.
  return { rows: rows as unknown as Selectable<Database[T]>[], total: totalOf(count) };
}
