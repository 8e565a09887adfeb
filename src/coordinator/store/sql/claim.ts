/**
 * The job queue's take operation: an atomic compare-and-set from `pending` to `running`.
 *
 * The candidate query does all matching in SQL (tags, untagged, protected), so the row it returns
 * is the one to take: on PostgreSQL it is locked `FOR UPDATE SKIP LOCKED`, letting several
 * coordinators take different jobs at once instead of queueing on the same row; on SQLite the
 * transaction holds the database write lock. The UPDATE still re-checks `status = 'pending'`, and a
 * lost race moves on to the next candidate.
 */
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { JobClaim, JobRecord, RunnerMatch } from '../store.js';
import type { SqlContext } from './flavor.js';
import { translateConstraints } from './errors.js';
import type { JobDefinition } from '../../../pipeline/types.js';
import { json, toJob } from './rows.js';
import type { Database } from './schema.js';

const MAX_ATTEMPTS = 5;
const UNTAGGED = JSON.stringify([]);

type Outcome = { kind: 'none' } | { kind: 'lost' } | { kind: 'won'; job: JobRecord };

export async function claimPendingJob(
  ctx: SqlContext,
  match: RunnerMatch,
  claim: JobClaim,
): Promise<JobRecord | null> {
  if (match.tagList.length === 0 && !match.runUntagged) return null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const outcome = await translateConstraints('a job with this token exists', () =>
      ctx.flavor.transaction(ctx.db, (trx) => claimOnce(ctx, trx, match, claim)),
    );
    if (outcome.kind === 'won') return outcome.job;
    if (outcome.kind === 'none') return null;
  }
  return null;
}

async function claimOnce(
  ctx: SqlContext,
  trx: Kysely<Database>,
  match: RunnerMatch,
  claim: JobClaim,
): Promise<Outcome> {
  const { flavor } = ctx;
  const candidate = await trx
    .selectFrom('jobs')
    .select(['id', 'definition'])
    .where('status', '=', 'pending')
    .where('kind', '=', 'build')
    .where((eb) => runnerMayTake(ctx, eb, match))
    .orderBy('id')
    .limit(1)
    .$if(flavor.rowLocks, (qb) => qb.forUpdate().skipLocked())
    .executeTakeFirst();
  if (candidate === undefined) return { kind: 'none' };
  const row = await trx
    .updateTable('jobs')
    .set({
      status: 'running',
      runner_id: match.runnerId,
      runner_system_id: claim.runnerSystemId,
      token_hash: claim.tokenHash,
      started_at: flavor.toDate(claim.startedAt),
      timeout_seconds: timeoutOf(claim, candidate.definition),
      ...(claim.lastSeenAt ? { last_seen_at: flavor.toDate(claim.lastSeenAt) } : {}),
      updated_at: flavor.toDate(ctx.now()),
    })
    .where('id', '=', candidate.id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? { kind: 'lost' } : { kind: 'won', job: toJob(row) };
}

/** The claim's timeout, or the definition's capped at the runner's maximum (see JobClaim). */
function timeoutOf(claim: JobClaim, definition: string): number {
  if (claim.timeoutFromDefinition !== true) return claim.timeoutSeconds;
  const wanted = json<JobDefinition>(definition).timeoutSeconds ?? claim.timeoutSeconds;
  const max = claim.maximumTimeoutSeconds;
  return max ? Math.min(wanted, max) : wanted;
}

/** Job tags ⊆ runner tags; untagged jobs only for runUntagged; ref_protected runners only protected jobs. */
function runnerMayTake(
  ctx: SqlContext,
  eb: ExpressionBuilder<Database, 'jobs'>,
  match: RunnerMatch,
): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [];
  if (match.accessLevel === 'ref_protected') conditions.push(eb('protected', '=', ctx.flavor.toBool(true)));
  if (match.tagList.length === 0) {
    conditions.push(eb('tag_list', '=', UNTAGGED));
  } else {
    conditions.push(ctx.flavor.jobTagsWithin([...new Set(match.tagList)]));
    if (!match.runUntagged) conditions.push(eb('tag_list', '<>', UNTAGGED));
  }
  return eb.and(conditions);
}
