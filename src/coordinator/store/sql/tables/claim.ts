/**
 * The job queue's take operation: an atomic compare-and-set from `pending` to `running`, in ONE
 * statement (one round trip, no transaction):
 *
 *   UPDATE jobs SET status = 'running', … WHERE status = 'pending' AND id =
 *     (SELECT id FROM jobs WHERE status = 'pending' AND <runner may take it> ORDER BY id LIMIT 1
 *      [FOR UPDATE SKIP LOCKED]) RETURNING *
 *
 * The candidate query does all matching in SQL (tags, untagged, protected). On PostgreSQL it
 * locks the row `FOR UPDATE SKIP LOCKED`, so several coordinators take different jobs at once
 * instead of queueing on the same row; on SQLite the statement runs under the database write lock.
 * No row back means no job this runner may take (a row another claim holds is skipped, not
 * waited for). Before, a claim was a transaction of four round trips (BEGIN, SELECT, UPDATE,
 * COMMIT), three for the many claims that find nothing.
 */
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { JobClaim, JobRecord, RunnerMatch } from '../../store.js';
import type { SqlContext } from '../flavor.js';
import { translateConstraints } from '../errors.js';
import { toJob } from '../rows.js';
import type { Database } from '../schema.js';

const UNTAGGED = JSON.stringify([]);

export async function claimPendingJob(
  ctx: SqlContext,
  match: RunnerMatch,
  claim: JobClaim,
): Promise<JobRecord | null> {
  if (match.tagList.length === 0 && !match.runUntagged) return null;
  const { flavor } = ctx;
  const row = await translateConstraints('a job with this token exists', () =>
    ctx.db
      .updateTable('jobs')
      .set({
        status: 'running',
        runner_id: match.runnerId,
        runner_system_id: claim.runnerSystemId,
        token_hash: claim.tokenHash,
        started_at: flavor.toDate(claim.startedAt),
        timeout_seconds: timeoutOf(ctx, claim),
        ...(claim.lastSeenAt ? { last_seen_at: flavor.toDate(claim.lastSeenAt) } : {}),
        updated_at: flavor.toDate(ctx.now()),
      })
      .where('status', '=', 'pending')
      .where('id', '=', (eb) =>
        eb
          .selectFrom('jobs')
          .select('id')
          .where('status', '=', 'pending')
          .where('kind', '=', 'build')
          .where((inner) => runnerMayTake(ctx, inner, match))
          .orderBy('id')
          .limit(1)
          .$if(flavor.rowLocks, (qb) => qb.forUpdate().skipLocked()),
      )
      .returningAll()
      .executeTakeFirst(),
  );
  return row === undefined ? null : toJob(row);
}

/** The claim's timeout, or the definition's capped at the runner's maximum (see JobClaim). */
function timeoutOf(ctx: SqlContext, claim: JobClaim): number | Expression<number> {
  if (claim.timeoutFromDefinition !== true) return claim.timeoutSeconds;
  const wanted = sql<number>`coalesce(${ctx.flavor.jobTimeoutSeconds()}, ${claim.timeoutSeconds})`;
  const max = claim.maximumTimeoutSeconds;
  return max ? ctx.flavor.smaller(wanted, max) : wanted;
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
