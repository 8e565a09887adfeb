/** Users and personal access tokens. */
import { sql, type Selectable } from 'kysely';
import type { AccessTokenRecord, Page, Paged, UserFilter, UserRecord } from '../../store.js';
import { toDateOrNull } from '../flavor.js';
import type { SqlContext } from '../flavor.js';
import { translateConstraints } from '../errors.js';
import { pageBounds, totalOf } from '../paging.js';
import { toAccessToken, toUser } from '../rows.js';
import { runTemplate } from '../query-template.js';
import type { AccessTokensTable } from '../schema.js';

const ROOT_USER_ID = 1;

export async function getUser(ctx: SqlContext, id: number): Promise<UserRecord | null> {
  const row = await ctx.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toUser(row);
}

export async function ensureRootUser(ctx: SqlContext): Promise<UserRecord> {
  const existing = await getUser(ctx, ROOT_USER_ID);
  if (existing !== null) return existing;
  const { db, flavor } = ctx;
  await db
    .insertInto('users')
    .values({
      id: ROOT_USER_ID,
      username: 'root',
      name: 'Administrator',
      admin: flavor.toBool(true),
      created_at: flavor.toDate(ctx.now()),
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
  if (flavor.name === 'postgres') {
    // An explicit id does not advance the identity sequence; move it past the root user.
    await sql`select setval(pg_get_serial_sequence('users', 'id'), (select max(id) from users))`.execute(db);
  }
  const root = await getUser(ctx, ROOT_USER_ID);
  if (root === null) throw new Error('root user vanished after insert');
  return root;
}

export async function createUser(
  ctx: SqlContext,
  input: Pick<UserRecord, 'username' | 'name' | 'admin'>,
): Promise<UserRecord> {
  const { db, flavor } = ctx;
  const row = await translateConstraints('a user with this username exists', () =>
    db
      .insertInto('users')
      .values({
        username: input.username,
        name: input.name,
        admin: flavor.toBool(input.admin),
        created_at: flavor.toDate(ctx.now()),
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return toUser(row);
}

export async function createAccessToken(
  ctx: SqlContext,
  input: Omit<AccessTokenRecord, 'id' | 'createdAt' | 'revoked'>,
): Promise<AccessTokenRecord> {
  const { db, flavor } = ctx;
  const row = await translateConstraints('an access token with this hash exists', () =>
    db
      .insertInto('access_tokens')
      .values({
        user_id: input.userId,
        name: input.name,
        token_hash: input.tokenHash,
        scopes: JSON.stringify(input.scopes),
        created_at: flavor.toDate(ctx.now()),
        expires_at: toDateOrNull(flavor, input.expiresAt),
        revoked: flavor.toBool(false),
      })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return toAccessToken(row);
}

export async function findAccessTokenByHash(
  ctx: SqlContext,
  tokenHash: string,
): Promise<AccessTokenRecord | null> {
  const [row] = await runTemplate<Selectable<AccessTokensTable>>(
    ctx,
    'findAccessTokenByHash',
    [tokenHash],
    (slot) => ctx.db.selectFrom('access_tokens').selectAll().where('token_hash', '=', slot(0)),
  );
  return row === undefined ? null : toAccessToken(row);
}

export async function getAccessToken(ctx: SqlContext, id: number): Promise<AccessTokenRecord | null> {
  const row = await ctx.db.selectFrom('access_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toAccessToken(row);
}

export async function revokeAccessToken(ctx: SqlContext, id: number): Promise<AccessTokenRecord | null> {
  const row = await ctx.db
    .updateTable('access_tokens')
    .set({ revoked: ctx.flavor.toBool(true) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : toAccessToken(row);
}

export async function listUsers(ctx: SqlContext, filter: UserFilter, page: Page): Promise<Paged<UserRecord>> {
  const { limit, offset } = pageBounds(page);
  const pattern = filter.search === undefined ? '' : `%${filter.search.toLowerCase()}%`;
  const base = ctx.db
    .selectFrom('users')
    .$if(filter.username !== undefined, (qb) => qb.where('username', '=', filter.username ?? ''))
    .$if(filter.search !== undefined, (qb) =>
      qb.where((eb) =>
        eb.or([
          eb(eb.fn('lower', ['username']), 'like', pattern),
          eb(eb.fn('lower', ['name']), 'like', pattern),
        ]),
      ),
    );
  const count = await base.select((eb) => eb.fn.countAll<number | string>().as('total')).executeTakeFirst();
  const rows = await base.selectAll().orderBy('id').limit(limit).offset(offset).execute();
  return { items: rows.map(toUser), total: totalOf(count) };
}
