/** Jobs: creation (with a pipeline or as retries), queries and compare-and-set updates. */
import { CompiledQuery, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { JobStatus } from '../../../../api/job-status.js';
import {
  jobKindOf,
  type AnnounceableJob,
  type ArtifactRecord,
  type JobFilter,
  type JobPatch,
  type JobRecord,
  type NewJob,
  type Page,
  type Paged,
} from '../../store.js';
import { JOB_COLUMNS, toRow } from '../columns.js';
import type { SqlContext } from '../flavor.js';
import { translateConstraints } from '../errors.js';
import { pageBounds, totalOf } from '../paging.js';
import { runTemplate } from '../query-template.js';
import { toAnnounceableJob, toArtifact, toJob, type AnnounceRow } from '../rows.js';
import type { Database, JobsTable } from '../schema.js';

/** Rows per INSERT, well under both dialects' bound-parameter limits. */
const INSERT_BATCH = 200;

/** Inserts `jobs` into a pipeline within `trx`; returns them in input order. */
export async function insertJobs(
  ctx: SqlContext,
  trx: Kysely<Database>,
  pipelineId: number,
  projectId: number,
  jobs: NewJob[],
): Promise<JobRecord[]> {
  const now = ctx.flavor.toDate(ctx.now());
  const rows = jobs.map(
    (job) =>
      ({
        ...toRow(ctx.flavor, JOB_COLUMNS, job),
        pipeline_id: pipelineId,
        project_id: projectId,
        kind: jobKindOf(job.definition),
        retried: ctx.flavor.toBool(false),
        trace_size: 0,
        created_at: now,
        updated_at: now,
      }) as Insertable<JobsTable>,
  );
  const created: JobRecord[] = [];
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    const inserted = await trx
      .insertInto('jobs')
      .values(rows.slice(i, i + INSERT_BATCH))
      .returningAll()
      .execute();
    // RETURNING order is not promised; ids are assigned in VALUES order.
    created.push(...inserted.map(toJob).sort((a, b) => a.id - b.id));
  }
  return created;
}

export function createJobs(
  ctx: SqlContext,
  pipelineId: number,
  projectId: number,
  jobs: NewJob[],
): Promise<JobRecord[]> {
  return translateConstraints('a job with this token exists', () =>
    ctx.flavor.transaction(ctx.db, (trx) => insertJobs(ctx, trx, pipelineId, projectId, jobs)),
  );
}

export async function getJob(ctx: SqlContext, id: number): Promise<JobRecord | null> {
  const [row] = await runTemplate<Selectable<JobsTable>>(ctx, 'getJob', [id], (slot) =>
    ctx.db.selectFrom('jobs').selectAll().where('id', '=', slot(0)),
  );
  return row === undefined ? null : toJob(row);
}

/** See `PipelineStore.listJobsUnlessUnderway`: one SELECT with NOT EXISTS, from a compiled template. */
export async function listJobsUnlessUnderway(
  ctx: SqlContext,
  pipelineId: number,
  maxStageIdx: number,
): Promise<JobRecord[]> {
  const values = [pipelineId, ctx.flavor.toBool(false), 'running', 'pending', maxStageIdx];
  const rows = await runTemplate<Selectable<JobsTable>>(ctx, 'listJobsUnlessUnderway', values, (slot) =>
    ctx.db
      .selectFrom('jobs')
      .selectAll()
      .where('pipeline_id', '=', slot(0))
      .where('retried', '=', slot(1))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('jobs as r')
              .select('r.id')
              .where('r.pipeline_id', '=', slot(0))
              .where('r.status', 'in', [slot(2), slot(3)])
              .where('r.retried', '=', slot(1))
              .where('r.stage_idx', '<=', slot(4)),
          ),
        ),
      )
      .orderBy('id'),
  );
  return rows.map(toJob);
}

/** See `PipelineStore.listAnnounceableJobs`: one SELECT of eight columns, from a compiled template. */
export async function listAnnounceableJobs(ctx: SqlContext, limit: number): Promise<AnnounceableJob[]> {
  const no = ctx.flavor.toBool(false);
  const values = ['build', no, 'created', 'pending', 'running', Math.max(0, Math.floor(limit))];
  const rows = await runTemplate<AnnounceRow>(ctx, 'listAnnounceableJobs', values, (slot) =>
    ctx.db
      .selectFrom('jobs')
      .select(['id', 'pipeline_id', 'name', 'stage_idx', 'status', 'tag_list', 'protected', 'started_at'])
      .where('kind', '=', slot(0))
      .where('retried', '=', slot(1))
      .where('status', 'in', [slot(2), slot(3), slot(4)])
      .where('pipeline_id', 'in', (eb) =>
        eb
          .selectFrom('jobs as c')
          .select('c.pipeline_id')
          .where('c.status', '=', slot(2))
          .where('c.kind', '=', slot(0))
          .where('c.retried', '=', slot(1))
          .orderBy('c.id')
          .limit(slot(5)),
      )
      .orderBy('id'),
  );
  return rows.map(toAnnounceableJob);
}

export async function findJobByTokenHash(ctx: SqlContext, tokenHash: string): Promise<JobRecord | null> {
  const row = await ctx.db
    .selectFrom('jobs')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row === undefined ? null : toJob(row);
}

/** Jobs matching `filter`, by id (ascending unless `sort`); all of them when `page` is omitted. */
export async function listJobs(ctx: SqlContext, filter: JobFilter, page?: Page): Promise<Paged<JobRecord>> {
  const { statuses, resourceGroups } = filter;
  if (statuses !== undefined && statuses.length === 0) return { items: [], total: 0 };
  if (resourceGroups !== undefined && resourceGroups.length === 0) return { items: [], total: 0 };
  if (page === undefined && resourceGroups === undefined) return listAllJobs(ctx, filter);
  const base = filtered(ctx, filter, (value) => value as never);
  const order = filter.sort ?? 'asc';
  if (page === undefined) {
    const rows = await base.selectAll().orderBy('id', order).execute();
    return { items: rows.map(toJob), total: rows.length };
  }
  const { limit, offset } = pageBounds(page);
  const count = await base.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirst();
  const rows = await base.selectAll().orderBy('id', order).limit(limit).offset(offset).execute();
  return { items: rows.map(toJob), total: totalOf(count) };
}

/**
 * The jobs query of `filter` (`bind` gives each value its place: itself, or a template slot).
 * Value positions: pipeline, project, retried, kind, runner, then the statuses.
 */
function filtered(ctx: SqlContext, filter: JobFilter, bind: (value: unknown, index: number) => never) {
  const { statuses, resourceGroups } = filter;
  return ctx.db
    .selectFrom('jobs')
    .$if(filter.pipelineId !== undefined, (qb) => qb.where('pipeline_id', '=', bind(filter.pipelineId, 0)))
    .$if(filter.projectId !== undefined, (qb) => qb.where('project_id', '=', bind(filter.projectId, 1)))
    .$if(statuses !== undefined, (qb) =>
      qb.where(
        'status',
        'in',
        (statuses ?? []).map((s, i) => bind(s, 5 + i)),
      ),
    )
    .$if(filter.includeRetried !== true, (qb) => qb.where('retried', '=', bind(ctx.flavor.toBool(false), 2)))
    .$if(filter.kind !== undefined, (qb) => qb.where('kind', '=', bind(filter.kind, 3)))
    .$if(filter.runnerId !== undefined, (qb) => qb.where('runner_id', '=', bind(filter.runnerId, 4)))
    .$if(resourceGroups !== undefined, (qb) =>
      qb.where((eb) => eb(ctx.flavor.jobResourceGroup(), 'in', resourceGroups ?? [])),
    );
}

/** Every job of `filter` (no page, no resource groups: a pipeline's job list), from a compiled template. */
async function listAllJobs(ctx: SqlContext, filter: JobFilter): Promise<Paged<JobRecord>> {
  const statuses = filter.statuses ?? [];
  const values = [
    filter.pipelineId,
    filter.projectId,
    ctx.flavor.toBool(false),
    filter.kind,
    filter.runnerId,
    ...statuses,
  ];
  const shape = [
    filter.pipelineId !== undefined,
    filter.projectId !== undefined,
    filter.statuses === undefined ? '-' : statuses.length,
    filter.includeRetried === true,
    filter.kind !== undefined,
    filter.runnerId !== undefined,
    filter.sort ?? 'asc',
  ].join(',');
  const rows = await runTemplate<Selectable<JobsTable>>(ctx, `listJobs:${shape}`, values, (slot) =>
    filtered(ctx, filter, (_, index) => slot(index))
      .selectAll()
      .orderBy('id', filter.sort ?? 'asc'),
  );
  return { items: rows.map(toJob), total: rows.length };
}

export async function updateJob(
  ctx: SqlContext,
  id: number,
  patch: JobPatch,
  expectStatuses?: JobStatus[],
): Promise<JobRecord | null> {
  if (expectStatuses !== undefined && expectStatuses.length === 0) return null;
  const set: Record<string, unknown> = {
    ...toRow(ctx.flavor, JOB_COLUMNS, patch),
    updated_at: ctx.flavor.toDate(ctx.now()),
  };
  const columns = Object.keys(set);
  const statuses = expectStatuses ?? [];
  const values = [...Object.values(set), id, ...statuses];
  const key = `updateJob:${columns.join(',')}:${expectStatuses === undefined ? '-' : statuses.length}`;
  const [row] = await translateConstraints('a job with this token exists', () =>
    runTemplate<Selectable<JobsTable>>(ctx, key, values, (slot) =>
      ctx.db
        .updateTable('jobs')
        .set(Object.fromEntries(columns.map((c, i) => [c, slot(i)])) as Updateable<JobsTable>)
        .where('id', '=', slot(columns.length))
        .$if(expectStatuses !== undefined, (qb) =>
          qb.where(
            'status',
            'in',
            statuses.map((_, i) => slot(columns.length + 1 + i)),
          ),
        )
        .returningAll(),
    ),
  );
  return row === undefined ? null : toJob(row);
}

/** Ids per set-based UPDATE, well under both dialects' bound-parameter limits. */
const UPDATE_BATCH = 500;

/**
 * See `PipelineStore.updateJobs`: `UPDATE jobs SET … WHERE id IN (…) AND status IN (…) RETURNING *`,
 * one statement (one commit) per 500 ids. Each row is compared and set on its own, as `updateJob`
 * would; ids that were not written are simply not returned.
 */
export async function updateJobs(
  ctx: SqlContext,
  ids: readonly number[],
  patch: JobPatch,
  expectStatuses: JobStatus[],
): Promise<JobRecord[]> {
  if (ids.length === 0 || expectStatuses.length === 0) return [];
  const set = {
    ...toRow(ctx.flavor, JOB_COLUMNS, patch),
    updated_at: ctx.flavor.toDate(ctx.now()),
  } as Updateable<JobsTable>;
  const written: JobRecord[] = [];
  for (let i = 0; i < ids.length; i += UPDATE_BATCH) {
    const rows = await translateConstraints('a job with this token exists', () =>
      ctx.db
        .updateTable('jobs')
        .set(set)
        .where('id', 'in', ids.slice(i, i + UPDATE_BATCH))
        .where('status', 'in', expectStatuses)
        .returningAll()
        .execute(),
    );
    written.push(...rows.map(toJob));
  }
  return written.sort((a, b) => a.id - b.id);
}

/** Build jobs (not bridges) in `status`, the start of the watchdog's and the queue's scans. */
function buildJobsIn(ctx: SqlContext, status: JobStatus) {
  return ctx.db.selectFrom('jobs').selectAll().where('status', '=', status).where('kind', '=', 'build');
}

export async function listStaleRunningJobs(ctx: SqlContext, before: Date): Promise<JobRecord[]> {
  const rows = await buildJobsIn(ctx, 'running')
    .where((eb) => eb(eb.fn.coalesce('last_seen_at', 'started_at'), '<', ctx.flavor.toDate(before)))
    .orderBy('id')
    .execute();
  return rows.map(toJob);
}

export async function listPendingJobs(ctx: SqlContext, limit: number): Promise<JobRecord[]> {
  const rows = await buildJobsIn(ctx, 'pending').orderBy('id').limit(limit).execute();
  return rows.map(toJob);
}

/** Drops the job's log chunks and artifact records and marks it erased, in one transaction. */
export async function eraseJob(
  ctx: SqlContext,
  id: number,
  at: Date,
): Promise<{ job: JobRecord; artifacts: ArtifactRecord[] } | null> {
  return ctx.flavor.transaction(ctx.db, async (trx) => {
    const artifacts = await trx.selectFrom('artifacts').selectAll().where('job_id', '=', id).execute();
    await trx.deleteFrom('artifacts').where('job_id', '=', id).execute();
    await trx.deleteFrom('trace_chunks').where('job_id', '=', id).execute();
    const row = await trx
      .updateTable('jobs')
      .set({ trace_size: 0, trace_checksum: null, erased_at: ctx.flavor.toDate(at) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? null : { job: toJob(row), artifacts: artifacts.map(toArtifact) };
  });
}

/** Rows per heartbeat UPDATE, well under both dialects' bound-parameter limits. */
const TOUCH_BATCH = 500;

/**
 * PostgreSQL: the heartbeat's rows locked first in id order, as the batched log append locks them
 * (trace-append-one-statement.ts): two statements locking several of the same rows in one order
 * cannot deadlock.
 */
const TOUCH_IN_ORDER = `with locked as materialized (
  select id from jobs where id = any($1::bigint[]) and status in ('running', 'canceling') order by id for update
)
update jobs set last_seen_at = $2 from locked where jobs.id = locked.id`;

export async function touchJobs(ctx: SqlContext, ids: number[], at: Date): Promise<number> {
  const sorted = [...ids].sort((a, b) => a - b);
  let updated = 0;
  for (let i = 0; i < sorted.length; i += TOUCH_BATCH) {
    const slice = sorted.slice(i, i + TOUCH_BATCH);
    if (ctx.flavor.rowLocks) {
      const result = await ctx.db.executeQuery(
        CompiledQuery.raw(TOUCH_IN_ORDER, [slice, ctx.flavor.toDate(at)]),
      );
      updated += Number(result.numAffectedRows ?? 0);
      continue;
    }
    const result = await ctx.db
      .updateTable('jobs')
      .set({ last_seen_at: ctx.flavor.toDate(at) })
      .where('id', 'in', slice)
      .where('status', 'in', ['running', 'canceling'])
      .executeTakeFirst();
    updated += Number(result.numUpdatedRows);
  }
  return updated;
}
