/**
 * Job logs. `jobs.trace_size` is the authoritative length: an append happens only at it, so a
 * concurrent or replayed append at a stale offset is refused instead of duplicating output.
 *
 * Where the bytes live: in `trace_chunks` (one row per append, in the same transaction as the size)
 * unless the store has trace files (SQLite with a data directory, see `sqlite/trace-files.ts`). Then a log
 * moves to its own file once it reaches the files' threshold, and every later append to it:
 *   1. writes the bytes into the file at the stored size and `fdatasync`s it;
 *   2. then moves `trace_size` in the database (a commit that the route makes durable before its
 *      202, like every other write).
 * A crash between 1 and 2 leaves bytes past the stored size, which no read returns and the next
 * append writes over, so nothing acknowledged is lost and nothing unacknowledged becomes visible.
 * Moving a log to its file copies its chunks into a new file, synced, before the file appears under
 * its name; the chunks are dropped in the same commit as the first size written after them.
 */
import type { Kysely } from 'kysely';
import { FlotillaError } from '../../../../shared/errors.js';
import type { TraceAppendResult } from '../../store.js';
import { traceDataLength, type TraceData } from '../../port/traces.js';
import type { SqlContext } from '../flavor.js';
import { runTemplate } from '../query-template.js';
import { fromBigint } from '../rows.js';
import type { Database } from '../schema.js';
import type { JobLocks, TraceFiles } from '../sqlite/trace-files.js';
import { appendIfAt, appendsInOneStatement, BATCHED_APPEND_MAX_BYTES } from './trace-append-one-statement.js';

/** The trace files of a store that has them, and the per-job serialisation of their appends. */
export interface TraceFileStore {
  readonly files: TraceFiles;
  readonly locks: JobLocks;
}

async function storedSize(db: Kysely<Database>, jobId: number, forUpdate = false): Promise<number | null> {
  const job = await db
    .selectFrom('jobs')
    .select('trace_size')
    .where('id', '=', jobId)
    .$if(forUpdate, (qb) => qb.forUpdate())
    .executeTakeFirst();
  return job === undefined ? null : fromBigint(job.trace_size);
}

/** The size read of an append (compiled once, see `query-template.ts`). */
async function sizeForAppend(ctx: Pick<SqlContext, 'flavor'>, trx: Kysely<Database>, jobId: number) {
  const forUpdate = ctx.flavor.rowLocks;
  const [job] = await runTemplate<{ trace_size: number | bigint | string }>(
    { db: trx, flavor: ctx.flavor },
    `traceSize:${forUpdate}`,
    [jobId],
    (slot) =>
      trx
        .selectFrom('jobs')
        .select('trace_size')
        .where('id', '=', slot(0))
        .$if(forUpdate, (qb) => qb.forUpdate()),
  );
  return job === undefined ? null : fromBigint(job.trace_size);
}

function notFound(jobId: number): FlotillaError {
  return new FlotillaError('FLO_ERR_NOT_FOUND', `job ${jobId} does not exist`, { details: { jobId } });
}

/** A log that would reach the trace files' threshold with this append: it goes to its file instead. */
const TO_FILE = Symbol('to file');

/**
 * Appends one chunk row and moves the size, in one transaction, unless the log would reach
 * `fileThreshold` (then nothing is written and the caller moves it to its file). The size is read
 * once, inside the transaction, and the three statements are compiled once.
 */
async function appendChunk(
  ctx: SqlContext,
  jobId: number,
  offset: number,
  pieces: TraceData,
  fileThreshold = Infinity,
): Promise<TraceAppendResult | typeof TO_FILE> {
  const { flavor } = ctx;
  const length = traceDataLength(pieces);
  if (length > 0 && fileThreshold === Infinity && appendsInOneStatement(ctx)) {
    const data = Buffer.isBuffer(pieces) ? pieces : Buffer.concat(pieces);
    const appended =
      ctx.appends !== undefined && length <= BATCHED_APPEND_MAX_BYTES
        ? await ctx.appends.append(jobId, offset, data)
        : await appendIfAt(ctx, jobId, offset, data);
    if (appended) return { ok: true, size: offset + length };
  }
  return flavor.transaction(ctx.db, async (trx) => {
    const size = await sizeForAppend(ctx, trx, jobId);
    if (size === null) throw notFound(jobId);
    if (offset !== size) return { ok: false, size };
    if (length === 0) return { ok: true, size };
    if (size + length >= fileThreshold) return TO_FILE;
    const data = Buffer.isBuffer(pieces) ? pieces : Buffer.concat(pieces);
    const end = size + length;
    const target = { db: trx, flavor };
    await runTemplate(target, 'traceChunkInsert', [jobId, size, end, data], (slot) =>
      trx
        .insertInto('trace_chunks')
        .values({ job_id: slot(0), offset: slot(1), end_offset: slot(2), data: slot(3) }),
    );
    await runTemplate(target, 'traceSizeWrite', [end, jobId], (slot) =>
      trx
        .updateTable('jobs')
        .set({ trace_size: slot(0) })
        .where('id', '=', slot(1)),
    );
    return { ok: true, size: end };
  });
}

export async function appendTrace(
  ctx: SqlContext,
  traces: TraceFileStore | undefined,
  jobId: number,
  offset: number,
  data: TraceData,
): Promise<TraceAppendResult> {
  if (traces === undefined) return appendChunk(ctx, jobId, offset, data) as Promise<TraceAppendResult>;
  return traces.locks.run(jobId, () => appendToFile(ctx, traces.files, jobId, offset, data));
}

/** Runs under the job's lock: no other append to this job runs in this process meanwhile. */
async function appendToFile(
  ctx: SqlContext,
  files: TraceFiles,
  jobId: number,
  offset: number,
  data: TraceData,
): Promise<TraceAppendResult> {
  let handle = await files.openExisting(jobId);
  if (handle === null) {
    // A log still in the database: one transaction reads its size and appends, unless it now
    // reaches the threshold (checked on the size read in the transaction).
    const appended = await appendChunk(ctx, jobId, offset, data, files.threshold);
    if (appended !== TO_FILE) return appended;
  }
  const size = await storedSize(ctx.db, jobId).catch(async (err: unknown) => {
    await handle?.close();
    throw err;
  });
  if (size === null) {
    await handle?.close();
    throw notFound(jobId);
  }
  if (offset !== size) {
    await handle?.close();
    return { ok: false, size };
  }
  const length = traceDataLength(data);
  if (length === 0) {
    await handle?.close();
    return { ok: true, size };
  }
  const moved = handle === null;
  handle ??= await files.create(jobId, size > 0 ? [await readChunks(ctx, jobId, 0, size)] : []);
  try {
    await files.write(handle, size, data);
  } finally {
    await handle.close();
  }
  const end = size + length;
  const updated = await ctx.flavor.transaction(ctx.db, async (trx) => {
    const result = await trx
      .updateTable('jobs')
      .set({ trace_size: end })
      .where('id', '=', jobId)
      .where('trace_size', '=', size)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    if (moved) await trx.deleteFrom('trace_chunks').where('job_id', '=', jobId).execute();
    return true;
  });
  if (updated) return { ok: true, size: end };
  const now = await storedSize(ctx.db, jobId);
  if (now === null) throw notFound(jobId);
  return { ok: false, size: now };
}

/** Reads only the chunks overlapping [offset, offset + limit) and cuts the range out of them. */
async function readChunks(ctx: SqlContext, jobId: number, offset = 0, limit?: number): Promise<Buffer> {
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
  const joined = chunks.length === 1 ? first.data : Buffer.concat(chunks.map((c) => c.data));
  return joined.subarray(start - base, end === undefined ? undefined : end - base);
}

export async function readTrace(
  ctx: SqlContext,
  traces: TraceFileStore | undefined,
  jobId: number,
  offset = 0,
  limit?: number,
): Promise<Buffer> {
  if (traces === undefined) return readChunks(ctx, jobId, offset, limit);
  const start = Math.max(0, offset);
  const size = await storedSize(ctx.db, jobId);
  if (size === null || (limit !== undefined && limit <= 0)) return Buffer.alloc(0);
  const end = limit === undefined ? size : Math.min(size, start + limit);
  if (end <= start) return Buffer.alloc(0);
  const fromFile = await traces.files.read(jobId, start, end);
  if (fromFile !== null) return fromFile;
  const fromChunks = await readChunks(ctx, jobId, start, end - start);
  // The log may have moved to its file between the two reads (its chunks are gone then).
  if (fromChunks.length < end - start) return (await traces.files.read(jobId, start, end)) ?? fromChunks;
  return fromChunks;
}
