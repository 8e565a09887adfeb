/** Page → LIMIT/OFFSET, count values as numbers, and a listing's equality filters. */
import { sql, type Kysely, type Selectable, type SelectQueryBuilder, type StringReference } from 'kysely';
import { FlotillaError } from '../../../shared/errors.js';
import type { Page, Paged } from '../store.js';
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

/** The values a listing may filter one table's columns on; undefined: that column is not filtered. */
export type EqualityFilter<T extends keyof Database> = {
  readonly [C in keyof Database[T] & string]?: string | number | undefined;
};

/** `base` with `column = value` for each value of `filter` that is given, in `filter`'s order. */
function whereEquals<T extends keyof Database, O>(
  base: SelectQueryBuilder<Database, T, O>,
  filter: EqualityFilter<T>,
): SelectQueryBuilder<Database, T, O> {
  let qb = base;
  for (const [column, value] of Object.entries(filter)) {
    if (value !== undefined) qb = qb.where(sql.ref(column), '=', value);
  }
  return qb;
}

/** Tables whose rows have an `id` and belong to a project. */
type ProjectTable = {
  [T in TableWithId]: Database[T] extends { project_id: unknown } ? T : never;
}[TableWithId];

/** How a project's rows of one table are listed: the filter's equalities, the order, the record. */
export interface ProjectListing<T extends ProjectTable, F, R> {
  readonly table: T;
  readonly equalities: (filter: F) => EqualityFilter<T>;
  readonly order: (filter: F) => {
    column: StringReference<Database, T> & string;
    direction: 'asc' | 'desc';
  };
  readonly toRecord: (row: Selectable<Database[T]>) => R;
}

/** One page of `projectId`'s rows that `listing` lists for `filter`, with the count of all of them. */
export async function listProjectRows<T extends ProjectTable, F, R>(
  db: Kysely<Database>,
  listing: ProjectListing<T, F, R>,
  projectId: number,
  filter: F,
  page: Page,
): Promise<Paged<R>> {
  // kysely cannot resolve selectFrom's row type for a generic table name.
  const from = db.selectFrom(listing.table) as unknown as SelectQueryBuilder<Database, T, object>;
  const base = whereEquals(from, {
    project_id: projectId,
    ...listing.equalities(filter),
  } as EqualityFilter<T>);
  const { column, direction } = listing.order(filter);
  const { rows, total } = await orderedPage(base, column, direction, page);
  return { items: rows.map(listing.toRecord), total };
}
