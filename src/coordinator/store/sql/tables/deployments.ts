/**
 * Deployments and the other environment jobs' links. Only `action: start` rows are deployments and
 * take the project's next deployment iid, inside the inserting transaction (on PostgreSQL the
 * project row lock serialises concurrent writers of one project; SQLite's write lock serialises all).
 */
import type { Selectable } from 'kysely';
import type {
  DeploymentFilter,
  DeploymentPatch,
  DeploymentRecord,
  DeploymentStatus,
  NewDeployment,
} from '../../store.js';
import type { SqlContext } from '../flavor.js';
import { nextIid } from './iids.js';
import { toDateOrNull } from '../flavor.js';
import { translateConstraints } from '../errors.js';
import type { ProjectListing } from '../paging.js';
import { fromBool, fromDate, fromDateOrNull } from '../rows.js';
import type { DeploymentsTable } from '../schema.js';

const DEPLOY_ACTION = 'start';

export function toDeployment(row: Selectable<DeploymentsTable>): DeploymentRecord {
  return {
    id: row.id,
    iid: row.iid,
    projectId: row.project_id,
    environmentId: row.environment_id,
    jobId: row.job_id,
    pipelineId: row.pipeline_id,
    action: row.action,
    ref: row.ref,
    sha: row.sha,
    tag: fromBool(row.tag),
    status: row.status as DeploymentStatus,
    userId: row.user_id,
    createdAt: fromDate(row.created_at),
    updatedAt: fromDate(row.updated_at),
    finishedAt: fromDateOrNull(row.finished_at),
  };
}

export function createDeployment(ctx: SqlContext, input: NewDeployment): Promise<DeploymentRecord> {
  return translateConstraints(`job ${input.jobId} already has a deployment`, () =>
    ctx.flavor.transaction(ctx.db, async (trx) => {
      const now = ctx.flavor.toDate(ctx.now());
      const iid =
        input.action === DEPLOY_ACTION ? await nextIid(ctx, trx, 'deployments', input.projectId) : null;
      const row = await trx
        .insertInto('deployments')
        .values({
          iid,
          project_id: input.projectId,
          environment_id: input.environmentId,
          job_id: input.jobId,
          pipeline_id: input.pipelineId,
          action: input.action,
          ref: input.ref,
          sha: input.sha,
          tag: ctx.flavor.toBool(input.tag),
          status: input.status,
          user_id: input.userId,
          created_at: now,
          updated_at: now,
          finished_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toDeployment(row);
    }),
  );
}

export async function updateDeployment(
  ctx: SqlContext,
  id: number,
  patch: DeploymentPatch,
): Promise<DeploymentRecord | null> {
  const row = await ctx.db
    .updateTable('deployments')
    .set({
      ...(patch.status === undefined ? {} : { status: patch.status }),
      ...(patch.finishedAt === undefined ? {} : { finished_at: toDateOrNull(ctx.flavor, patch.finishedAt) }),
      updated_at: ctx.flavor.toDate(ctx.now()),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : toDeployment(row);
}

export async function findDeploymentByJob(ctx: SqlContext, jobId: number): Promise<DeploymentRecord | null> {
  const row = await ctx.db
    .selectFrom('deployments')
    .selectAll()
    .where('job_id', '=', jobId)
    .executeTakeFirst();
  return row === undefined ? null : toDeployment(row);
}

export const DEPLOYMENT_LISTING: ProjectListing<'deployments', DeploymentFilter, DeploymentRecord> = {
  table: 'deployments',
  equalities: (filter) => ({
    action: filter.allActions === true ? undefined : DEPLOY_ACTION,
    environment_id: filter.environmentId,
    pipeline_id: filter.pipelineId,
    status: filter.status,
  }),
  order: (filter) => ({ column: filter.orderBy ?? 'id', direction: filter.sort ?? 'asc' }),
  toRecord: toDeployment,
};
