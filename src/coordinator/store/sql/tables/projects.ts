/** Projects. */
import type { Page, Paged, ProjectFilter, ProjectPatch, ProjectRecord } from '../../store.js';
import type { SqlContext } from '../flavor.js';
import { translateConstraints } from '../errors.js';
import { pageBounds, totalOf } from '../paging.js';
import { toProject } from '../rows.js';

export async function createProject(
  ctx: SqlContext,
  input: Omit<ProjectRecord, 'id' | 'createdAt' | 'lastActivityAt'>,
): Promise<ProjectRecord> {
  const { db, flavor } = ctx;
  const now = flavor.toDate(ctx.now());
  const row = await translateConstraints(`project ${input.namespacePath}/${input.path} exists`, () =>
    db
      .insertInto('projects')
      .values({
        name: input.name,
        path: input.path,
        namespace_path: input.namespacePath,
        description: input.description,
        default_branch: input.defaultBranch,
        visibility: input.visibility,
        ci_config_path: input.ciConfigPath,
        protected_branches: JSON.stringify(input.protectedBranches),
        creator_id: input.creatorId,
        created_at: now,
        last_activity_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return toProject(row);
}

export async function getProject(ctx: SqlContext, id: number): Promise<ProjectRecord | null> {
  const row = await ctx.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toProject(row);
}

export async function findProjectByPath(
  ctx: SqlContext,
  namespacePath: string,
  path: string,
): Promise<ProjectRecord | null> {
  const row = await ctx.db
    .selectFrom('projects')
    .selectAll()
    .where('namespace_path', '=', namespacePath)
    .where('path', '=', path)
    .executeTakeFirst();
  return row === undefined ? null : toProject(row);
}

export async function listProjects(
  ctx: SqlContext,
  page: Page,
  filter: ProjectFilter = {},
): Promise<Paged<ProjectRecord>> {
  const { limit, offset } = pageBounds(page);
  const viewer = filter.visibleToUserId;
  const base = ctx.db
    .selectFrom('projects')
    .$if(viewer !== undefined, (qb) =>
      qb.where((eb) => eb.or([eb('visibility', '!=', 'private'), eb('creator_id', '=', viewer ?? 0)])),
    );
  const count = await base.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirst();
  const rows = await base.selectAll().orderBy('id').limit(limit).offset(offset).execute();
  return { items: rows.map(toProject), total: totalOf(count) };
}

export async function touchProject(ctx: SqlContext, id: number, at: Date): Promise<void> {
  await ctx.db
    .updateTable('projects')
    .set({ last_activity_at: ctx.flavor.toDate(at) })
    .where('id', '=', id)
    .execute();
}

export async function updateProject(
  ctx: SqlContext,
  id: number,
  patch: ProjectPatch,
): Promise<ProjectRecord | null> {
  const set = {
    ...(patch.name === undefined ? {} : { name: patch.name }),
    ...(patch.description === undefined ? {} : { description: patch.description }),
    ...(patch.defaultBranch === undefined ? {} : { default_branch: patch.defaultBranch }),
    ...(patch.visibility === undefined ? {} : { visibility: patch.visibility }),
    ...(patch.ciConfigPath === undefined ? {} : { ci_config_path: patch.ciConfigPath }),
  };
  if (Object.keys(set).length === 0) return getProject(ctx, id);
  const row = await ctx.db
    .updateTable('projects')
    .set(set)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : toProject(row);
}

/** Rows of other tables go with the project through their ON DELETE CASCADE foreign keys. */
export async function deleteProject(ctx: SqlContext, id: number): Promise<boolean> {
  const result = await ctx.db.deleteFrom('projects').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
