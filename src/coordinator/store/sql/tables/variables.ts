/** Project CI/CD variables, keyed by (project, key, environment scope). */
import type { Insertable, Updateable } from 'kysely';
import type { VariableRecord } from '../../store.js';
import { VARIABLE_COLUMNS, toRow } from '../columns.js';
import type { SqlContext } from '../flavor.js';
import { translateConstraints } from '../errors.js';
import { toVariable } from '../rows.js';
import type { VariablesTable } from '../schema.js';

const ALL_ENVIRONMENTS = '*';

export async function listVariables(ctx: SqlContext, projectId: number): Promise<VariableRecord[]> {
  const rows = await ctx.db
    .selectFrom('variables')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('key')
    .orderBy('environment_scope')
    .execute();
  return rows.map(toVariable);
}

/** Without a scope: the `*` one if present, else the first scope in sort order. */
export async function getVariable(
  ctx: SqlContext,
  projectId: number,
  key: string,
  environmentScope?: string,
): Promise<VariableRecord | null> {
  const rows = await ctx.db
    .selectFrom('variables')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('key', '=', key)
    .$if(environmentScope !== undefined, (qb) => qb.where('environment_scope', '=', environmentScope ?? ''))
    .orderBy('environment_scope')
    .execute();
  const row = rows.find((r) => r.environment_scope === ALL_ENVIRONMENTS) ?? rows[0];
  return row === undefined ? null : toVariable(row);
}

function conflict(key: string, scope: string): string {
  return `variable ${key} with environment scope ${scope} exists`;
}

export async function createVariable(ctx: SqlContext, input: VariableRecord): Promise<VariableRecord> {
  const values = toRow(ctx.flavor, VARIABLE_COLUMNS, input) as Insertable<VariablesTable>;
  const row = await translateConstraints(conflict(input.key, input.environmentScope), () =>
    ctx.db.insertInto('variables').values(values).returningAll().executeTakeFirstOrThrow(),
  );
  return toVariable(row);
}

export async function updateVariable(
  ctx: SqlContext,
  projectId: number,
  key: string,
  environmentScope: string,
  patch: Partial<Omit<VariableRecord, 'projectId' | 'key'>>,
): Promise<VariableRecord | null> {
  // The project and key identify the variable; a patch never moves it (the scope may change).
  const allowed = Object.fromEntries(Object.entries(patch).filter(([k]) => k !== 'projectId' && k !== 'key'));
  const set = toRow(ctx.flavor, VARIABLE_COLUMNS, allowed) as Updateable<VariablesTable>;
  if (Object.keys(set).length === 0) return getVariable(ctx, projectId, key, environmentScope);
  const row = await translateConstraints(conflict(key, patch.environmentScope ?? environmentScope), () =>
    ctx.db
      .updateTable('variables')
      .set(set)
      .where('project_id', '=', projectId)
      .where('key', '=', key)
      .where('environment_scope', '=', environmentScope)
      .returningAll()
      .executeTakeFirst(),
  );
  return row === undefined ? null : toVariable(row);
}

export async function deleteVariable(
  ctx: SqlContext,
  projectId: number,
  key: string,
  environmentScope: string,
): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom('variables')
    .where('project_id', '=', projectId)
    .where('key', '=', key)
    .where('environment_scope', '=', environmentScope)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
