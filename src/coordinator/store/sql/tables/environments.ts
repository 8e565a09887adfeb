/** Environments: one per (project, name), found or created by the jobs that deploy to them. */
import { sql, type Selectable } from 'kysely';
import { isFlotillaError } from '../../../../shared/errors.js';
import type {
  EnvironmentFilter,
  EnvironmentPatch,
  EnvironmentRecord,
  EnvironmentState,
  EnvironmentTier,
  NewEnvironment,
  Page,
  Paged,
} from '../../store.js';
import type { SqlContext } from '../flavor.js';
import { translateConstraints } from '../errors.js';
import { pageBounds, totalOf } from '../paging.js';
import { fromDate } from '../rows.js';
import type { EnvironmentsTable } from '../schema.js';

export function toEnvironment(row: Selectable<EnvironmentsTable>): EnvironmentRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    slug: row.slug,
    externalUrl: row.external_url,
    state: row.state as EnvironmentState,
    tier: row.tier as EnvironmentTier,
    createdAt: fromDate(row.created_at),
    updatedAt: fromDate(row.updated_at),
  };
}

async function findByName(ctx: SqlContext, projectId: number, name: string) {
  const row = await ctx.db
    .selectFrom('environments')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst();
  return row === undefined ? null : toEnvironment(row);
}

export async function findOrCreateEnvironment(
  ctx: SqlContext,
  input: NewEnvironment,
): Promise<EnvironmentRecord> {
  const existing = await findByName(ctx, input.projectId, input.name);
  if (existing) return existing;
  const now = ctx.flavor.toDate(ctx.now());
  try {
    const row = await translateConstraints(`environment ${input.name} exists`, () =>
      ctx.db
        .insertInto('environments')
        .values({
          project_id: input.projectId,
          name: input.name,
          slug: input.slug,
          external_url: input.externalUrl,
          state: 'available',
          tier: input.tier,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return toEnvironment(row);
  } catch (err) {
    // Another writer created it between our read and insert.
    if (!isFlotillaError(err, 'FLO_ERR_CONFLICT')) throw err;
    const raced = await findByName(ctx, input.projectId, input.name);
    if (!raced) throw err;
    return raced;
  }
}

export async function getEnvironment(ctx: SqlContext, id: number): Promise<EnvironmentRecord | null> {
  const row = await ctx.db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toEnvironment(row);
}

export async function updateEnvironment(
  ctx: SqlContext,
  id: number,
  patch: EnvironmentPatch,
): Promise<EnvironmentRecord | null> {
  const row = await ctx.db
    .updateTable('environments')
    .set({
      ...(patch.externalUrl === undefined ? {} : { external_url: patch.externalUrl }),
      ...(patch.state === undefined ? {} : { state: patch.state }),
      updated_at: ctx.flavor.toDate(ctx.now()),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : toEnvironment(row);
}

/** `text` for LIKE with `\` as the escape character, so `%` and `_` in it match themselves. */
function escapeLike(text: string): string {
  return text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** GitLab's `search`: case-insensitive, a prefix of the name or of a name inside a folder (`review/x`). */
function searchCondition(search: string) {
  const text = escapeLike(search);
  return sql<boolean>`(lower(name) like ${`${text}%`} escape '\\' or lower(name) like ${`%/${text}%`} escape '\\')`;
}

export async function listEnvironments(
  ctx: SqlContext,
  projectId: number,
  filter: EnvironmentFilter,
  page: Page,
): Promise<Paged<EnvironmentRecord>> {
  const { limit, offset } = pageBounds(page);
  const states = filter.states;
  if (states !== undefined && states.length === 0) return { items: [], total: 0 };
  const base = ctx.db
    .selectFrom('environments')
    .where('project_id', '=', projectId)
    .$if(filter.name !== undefined, (qb) => qb.where('name', '=', filter.name ?? ''))
    .$if(filter.search !== undefined, (qb) => qb.where(searchCondition(filter.search ?? '')))
    .$if(states !== undefined, (qb) => qb.where('state', 'in', states ?? []));
  const count = await base.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirst();
  const rows = await base.selectAll().orderBy('id').limit(limit).offset(offset).execute();
  return { items: rows.map(toEnvironment), total: totalOf(count) };
}
