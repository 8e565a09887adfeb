/** Per-project sequence numbers (`iid`) of pipelines and deployments. */
import { sql, type Kysely, type RawBuilder } from 'kysely';

import { FlotillaError } from '../../../../shared/errors.js';
import type { SqlContext } from '../flavor.js';
import type { Database } from '../schema.js';

type IidTable = 'pipelines' | 'deployments';

/**
 * Checks that the project exists and, on PostgreSQL, takes its row lock, which serialises
 * concurrent creators of one project until the creating transaction ends (SQLite's write lock
 * serialises all writers). Run inside the creating transaction, before the iid is read.
 */
export async function lockProject(ctx: SqlContext, trx: Kysely<Database>, projectId: number): Promise<void> {
  const project = await trx
    .selectFrom('projects')
    .select('id')
    .where('id', '=', projectId)
    .$if(ctx.flavor.rowLocks, (qb) => qb.forUpdate())
    .executeTakeFirst();
  if (project === undefined) {
    throw new FlotillaError('FLO_ERR_NOT_FOUND', `project ${projectId} does not exist`, {
      details: { projectId },
    });
  }
}

/**
 * The project's next iid in `table`, as an expression to insert with (one round trip fewer than
 * reading it first). Used after `lockProject` in the same transaction: the inserting statement
 * starts after the lock was granted, so its snapshot holds every iid of earlier creators.
 */
export function nextIidExpression(table: IidTable, projectId: number): RawBuilder<number> {
  return sql<number>`(select coalesce(max(${sql.ref(`${table}.iid`)}), 0) + 1 from ${sql.table(table)} where ${sql.ref(`${table}.project_id`)} = ${projectId})`;
}

/** The project's next iid in `table`, read inside the creating transaction (see `lockProject`). */
export async function nextIid(
  ctx: SqlContext,
  trx: Kysely<Database>,
  table: IidTable,
  projectId: number,
): Promise<number> {
  await lockProject(ctx, trx, projectId);
  const max = await trx
    .selectFrom(table)
    .select((eb) => eb.fn.max('iid').as('iid'))
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number(max?.iid ?? 0) + 1;
}
