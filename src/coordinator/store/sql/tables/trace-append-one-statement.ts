/**
 * A log append on PostgreSQL in ONE statement (one round trip) instead of a transaction of five
 * (BEGIN, size read `FOR UPDATE`, chunk insert, size write, COMMIT). The size write is a
 * compare-and-set (`trace_size = offset`): the UPDATE locks the row, and under READ COMMITTED a
 * concurrent append that moved the size first makes the WHERE fail on the row's new version, so
 * the chunk is inserted only when the size moved from `offset` to `end`. Both writes are one
 * statement, so one implicit transaction: they commit together, before the answer, as before.
 *
 * When nothing was appended (a stale or replayed offset, a missing job), the caller runs the
 * transaction, which reports the exact stored size or "not found" as it always did: only the
 * common case takes the short path.
 */
import { CompiledQuery } from 'kysely';
import type { SqlContext } from '../flavor.js';
import { nameStatement } from '../query-template.js';
import { fromBigint } from '../rows.js';

const APPEND = `with moved as (
  update jobs set trace_size = $3::bigint where id = $1 and trace_size = $2::bigint returning id
), chunk as (
  insert into trace_chunks (job_id, "offset", end_offset, data)
  select id, $2::bigint, $3::bigint, $4::bytea from moved returning job_id
)
select count(*) as appended from chunk`;
nameStatement(APPEND);

/** Whether this store appends in one statement (PostgreSQL: data-modifying CTEs). */
export function appendsInOneStatement(ctx: Pick<SqlContext, 'flavor'>): boolean {
  return ctx.flavor.name === 'postgres';
}

/** Appends `data` at `offset` if the stored size is `offset`; true when it did. */
export async function appendIfAt(
  ctx: Pick<SqlContext, 'db'>,
  jobId: number,
  offset: number,
  data: Buffer,
): Promise<boolean> {
  const result = await ctx.db.executeQuery<{ appended: number | string | bigint }>(
    CompiledQuery.raw(APPEND, [jobId, offset, offset + data.length, data]),
  );
  return fromBigint(result.rows[0]?.appended ?? 0) === 1;
}
