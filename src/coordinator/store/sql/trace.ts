/**
 * Job logs as append-only chunks. `jobs.trace_size` is the authoritative length and moves in the
 * same transaction as the chunk insert, so a concurrent or replayed append at a stale offset is
 * refused instead of duplicating output.
 */
import { FlotillaError } from '../../../shared/errors.js';
import type { TraceAppendResult } from '../store.js';
import type { SqlContext } from './flavor.js';
import { fromBigint } from './rows.js';

export async function appendTrace(
  ctx: SqlContext,
  jobId: number,
  offset: number,
  data: Buffer,
): Promise<TraceAppendResult> {
  const { flavor } = ctx;
  return flavor.transaction(ctx.db, async (trx) => {
    const job = await trx
      .selectFrom('jobs')
      .select('trace_size')
      .where('id', '=', jobId)
      .$if(flavor.rowLocks, (qb) => qb.forUpdate())
      .executeTakeFirst();
    if (job === undefined) {
      throw new FlotillaError('FLO_ERR_NOT_FOUND', `job ${jobId} does not exist`, { details: { jobId } });
    }
    const size = fromBigint(job.trace_size);
    if (offset !== size) return { ok: false, size };
    if (data.length === 0) return { ok: true, size };
    const end = size + data.length;
    await trx
      .insertInto('trace_chunks')
      .values({ job_id: jobId, offset: size, end_offset: end, data })
      .execute();
    await trx.updateTable('jobs').set({ trace_size: end }).where('id', '=', jobId).execute();
    return { ok: true, size: end };
  });
}

/** Reads only the chunks overlapping [offset, offset + limit) and cuts the range out of them. */
export async function readTrace(ctx: SqlContext, jobId: number, offset = 0, limit?: number): Promise<Buffer> {
  const start = Math.max(0, offset);
  if (limit !== undefined && limit <= 0) return Buffer.alloc(0);
  const end = limit === undefined ? undefined : start + limit;
  const chunks = await ctx.db
    .selectFrom('trace_chunks')
    .select(['offset', 'data'])
    .where('job_id', '=', jobId)
    .where('end_offset', '>', start)
    .$if(end !== undefined, (qb) => qb.where('offset', '<', end ?? 0))
    .orderBy('offset')
    .execute();
  const first = chunks[0];
  if (first === undefined) return Buffer.alloc(0);
  const base = fromBigint(first.offset);
  const joined = Buffer.concat(chunks.map((c) => c.data));
  return joined.subarray(start - base, end === undefined ? undefined : end - base);
}
