/** Pipelines, created atomically with their jobs. */
import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import { isCompleted, type PipelineStatus } from '../../../../api/job-status.js';
import type {
  JobRecord,
  NewJob,
  NewPipeline,
  PipelineFilter,
  PipelinePatch,
  PipelineRecord,
} from '../../store.js';
import { PIPELINE_COLUMNS, toRow } from '../columns.js';
import type { SqlContext } from '../flavor.js';
import { lockProject, nextIidExpression } from './iids.js';
import { translateConstraints } from '../errors.js';
import { insertJobs } from './jobs.js';
import type { ProjectListing } from '../paging.js';
import { runTemplate } from '../query-template.js';
import { toPipeline } from '../rows.js';
import type { PipelinesTable } from '../schema.js';

const ORDER_COLUMNS = { id: 'id', status: 'status', ref: 'ref', updated_at: 'updated_at' } as const;

export async function createPipeline(
  ctx: SqlContext,
  pipeline: NewPipeline,
  jobs: NewJob[],
): Promise<{ pipeline: PipelineRecord; jobs: JobRecord[] }> {
  return translateConstraints('a pipeline with this iid exists', () =>
    ctx.flavor.transaction(ctx.db, async (trx) => {
      await lockProject(ctx, trx, pipeline.projectId);
      const values = {
        ...toRow(ctx.flavor, PIPELINE_COLUMNS, pipeline),
        iid: nextIidExpression('pipelines', pipeline.projectId),
        updated_at: ctx.flavor.toDate(pipeline.createdAt),
      } as Insertable<PipelinesTable>;
      const row = await trx.insertInto('pipelines').values(values).returningAll().executeTakeFirstOrThrow();
      const created = toPipeline(row);
      return { pipeline: created, jobs: await insertJobs(ctx, trx, created.id, created.projectId, jobs) };
    }),
  );
}

export async function getPipeline(ctx: SqlContext, id: number): Promise<PipelineRecord | null> {
  const [row] = await runTemplate<Selectable<PipelinesTable>>(ctx, 'getPipeline', [id], (slot) =>
    ctx.db.selectFrom('pipelines').selectAll().where('id', '=', slot(0)),
  );
  return row === undefined ? null : toPipeline(row);
}

export const PIPELINE_LISTING: ProjectListing<'pipelines', PipelineFilter, PipelineRecord> = {
  table: 'pipelines',
  equalities: (filter) => ({
    ref: filter.ref,
    sha: filter.sha,
    status: filter.status,
    source: filter.source,
    parent_pipeline_id: filter.parentPipelineId,
    parent_job_id: filter.parentJobId,
  }),
  order: (filter) => ({ column: ORDER_COLUMNS[filter.orderBy ?? 'id'], direction: filter.sort ?? 'desc' }),
  toRecord: toPipeline,
};

export async function updatePipeline(
  ctx: SqlContext,
  id: number,
  patch: PipelinePatch,
  expectStatuses?: PipelineStatus[],
): Promise<PipelineRecord | null> {
  if (expectStatuses !== undefined && expectStatuses.length === 0) return null;
  const set = {
    ...toRow(ctx.flavor, PIPELINE_COLUMNS, patch),
    updated_at: ctx.flavor.toDate(ctx.now()),
  } as Updateable<PipelinesTable>;
  const row = await ctx.db
    .updateTable('pipelines')
    .set(set)
    .where('id', '=', id)
    .$if(expectStatuses !== undefined, (qb) => qb.where('status', 'in', expectStatuses ?? []))
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : toPipeline(row);
}

/** See Store.setPipelineStatus: one conditional UPDATE, no read before it. */
export async function setPipelineStatus(
  ctx: SqlContext,
  id: number,
  status: PipelineStatus,
  at: Date,
): Promise<PipelineRecord | null> {
  const { flavor } = ctx;
  const stamp = flavor.toDate(at);
  const finished = isCompleted(status) || status === 'manual';
  const running = status === 'running';
  const values = [status, stamp, finished ? stamp : null, flavor.toDate(ctx.now()), id];
  const [row] = await runTemplate<Selectable<PipelinesTable>>(
    ctx,
    `setPipelineStatus:${running}`,
    values,
    (slot) =>
      ctx.db
        .updateTable('pipelines')
        .set({
          status: slot(0),
          ...(running ? { started_at: sql<string>`coalesce(started_at, ${slot(1)})` } : {}),
          finished_at: slot(2),
          updated_at: slot(3),
        })
        .where('id', '=', slot(4))
        .where('status', '<>', slot(0))
        .where('yaml_errors', 'is', null)
        .returningAll(),
  );
  return row === undefined ? null : toPipeline(row);
}

/** Jobs, and through them logs, artifact records and deployments, go by ON DELETE CASCADE. */
export async function deletePipeline(ctx: SqlContext, id: number): Promise<boolean> {
  const result = await ctx.db.deleteFrom('pipelines').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
