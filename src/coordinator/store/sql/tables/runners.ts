/** Runners. Whether a paused runner may take jobs is the domain's call, not the store's. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { NewRunner, Page, Paged, RunnerPatch, RunnerRecord } from '../../store.js';
import { RUNNER_COLUMNS, toRow } from '../columns.js';
import type { SqlContext } from '../flavor.js';
import { translateConstraints } from '../errors.js';
import { pageBounds, totalOf } from '../paging.js';
import { toRunner } from '../rows.js';
import type { RunnersTable } from '../schema.js';
import { runTemplate } from '../query-template.js';

const DUPLICATE = 'a runner with this token exists';

export async function createRunner(ctx: SqlContext, input: NewRunner): Promise<RunnerRecord> {
  const values = {
    ...toRow(ctx.flavor, RUNNER_COLUMNS, input),
    created_at: ctx.flavor.toDate(ctx.now()),
  } as Insertable<RunnersTable>;
  const row = await translateConstraints(DUPLICATE, () =>
    ctx.db.insertInto('runners').values(values).returningAll().executeTakeFirstOrThrow(),
  );
  return toRunner(row);
}

export async function getRunner(ctx: SqlContext, id: number): Promise<RunnerRecord | null> {
  const [row] = await runTemplate<Selectable<RunnersTable>>(ctx, 'getRunner', [id], (slot) =>
    ctx.db.selectFrom('runners').selectAll().where('id', '=', slot(0)),
  );
  return row === undefined ? null : toRunner(row);
}

export async function findRunnerByTokenHash(
  ctx: SqlContext,
  tokenHash: string,
): Promise<RunnerRecord | null> {
  const row = await ctx.db
    .selectFrom('runners')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row === undefined ? null : toRunner(row);
}

export async function listRunners(ctx: SqlContext, page: Page): Promise<Paged<RunnerRecord>> {
  const { limit, offset } = pageBounds(page);
  const count = await ctx.db
    .selectFrom('runners')
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirst();
  const rows = await ctx.db
    .selectFrom('runners')
    .selectAll()
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .execute();
  return { items: rows.map(toRunner), total: totalOf(count) };
}

export async function updateRunner(
  ctx: SqlContext,
  id: number,
  patch: RunnerPatch,
): Promise<RunnerRecord | null> {
  const set = toRow(ctx.flavor, RUNNER_COLUMNS, patch) as Updateable<RunnersTable>;
  if (Object.keys(set).length === 0) return getRunner(ctx, id);
  const row = await ctx.db
    .updateTable('runners')
    .set(set)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : toRunner(row);
}

export async function deleteRunner(ctx: SqlContext, id: number): Promise<boolean> {
  const result = await ctx.db.deleteFrom('runners').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
