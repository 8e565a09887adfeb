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

/**
 * Appends of several distinct jobs in one statement (see `append-batch.ts`): the same
 * compare-and-set per job, joined from the arrays of the batch. The jobs' rows are locked first,
 * in id order (`locked`, materialised before the update reads it), as `touchJobs` locks them too:
 * two statements that lock several of the same rows in one order cannot deadlock.
 */
const APPEND_MANY = `with input as (
  select * from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[]) as i(job_id, start_offset, end_offset, data)
), locked as materialized (
  select id from jobs where id = any($1::bigint[]) order by id for update
), moved as (
  update jobs set trace_size = input.end_offset from input join locked on locked.id = input.job_id
  where jobs.id = input.job_id and jobs.trace_size = input.start_offset returning jobs.id
), chunk as (
  insert into trace_chunks (job_id, "offset", end_offset, data)
  select input.job_id, input.start_offset, input.end_offset, input.data from input join moved on moved.id = input.job_id
  returning job_id
)
select job_id from chunk`;
nameStatement(APPEND_MANY);

/** Appends larger than this go alone (a batch's bytes travel hex-encoded in an array literal). */
export const BATCHED_APPEND_MAX_BYTES = 64 * 1024;

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

/** Appends each of `appends` (distinct jobs) if its job's stored size is its offset; the jobs appended. */
export async function appendManyIfAt(
  ctx: Pick<SqlContext, 'db'>,
  appends: readonly { jobId: number; offset: number; data: Buffer }[],
): Promise<Set<number>> {
  const result = await ctx.db.executeQuery<{ job_id: number | string | bigint }>(
    CompiledQuery.raw(APPEND_MANY, [
      appends.map((a) => a.jobId),
      appends.map((a) => a.offset),
      appends.map((a) => a.offset + a.data.length),
      appends.map((a) => a.data),
    ]),
  );
  return new Set(result.rows.map((row) => fromBigint(row.job_id)));
}
