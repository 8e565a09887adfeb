/** Per-project sequence numbers (`iid`) of pipelines and deployments. */
import type { Kysely } from 'kysely';

import { FlotillaError } from '../../../../shared/errors.js';
import type { SqlContext } from '../flavor.js';
import type { Database } from '../schema.js';

/**
 * The project's next iid in `table`. Inside the creating transaction: on PostgreSQL the project
 * row lock serialises concurrent creators of one project; SQLite's write lock serialises all writers.
 */
export async function nextIid(
  ctx: SqlContext,
  trx: Kysely<Database>,
  table: 'pipelines' | 'deployments',
  projectId: number,
): Promise<number> {
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
  const max = await trx
    .selectFrom(table)
    .select((eb) => eb.fn.max('iid').as('iid'))
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number(max?.iid ?? 0) + 1;
}
