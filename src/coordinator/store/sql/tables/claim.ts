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
import { sql, type Expression, type ExpressionBuilder, type Selectable, type SqlBool } from 'kysely';
import type { JobClaim, JobRecord, PipelineRecord, RunnerMatch } from '../../store.js';
import type { SqlContext } from '../flavor.js';
import { translateConstraints } from '../errors.js';
import { runTemplate, type SlotOf } from '../query-template.js';
import { toJob, toPipeline } from '../rows.js';
import { getPipeline } from './pipelines.js';
import type { Database, JobsTable, PipelinesTable } from '../schema.js';

const UNTAGGED = JSON.stringify([]);
/** Where the runner's tags (as `tagParameters` binds them) start among a claim's values. */
const TAGS_AT = 8;

/** The claim's bound values and the shape of its statement (see `claimQuery`). */
function claimInputs(ctx: SqlContext, match: RunnerMatch, claim: JobClaim) {
  const { flavor } = ctx;
  const tags = match.tagList.length === 0 ? [] : flavor.tagParameters([...new Set(match.tagList)]);
  const values = [
    match.runnerId,
    claim.runnerSystemId,
    claim.tokenHash,
    flavor.toDate(claim.startedAt),
    claim.timeoutSeconds,
    claim.maximumTimeoutSeconds,
    claim.lastSeenAt ? flavor.toDate(claim.lastSeenAt) : null,
    flavor.toDate(ctx.now()),
    ...tags,
  ];
  const shape: ClaimShape = {
    fromDefinition: claim.timeoutFromDefinition === true,
    capped: claim.timeoutFromDefinition === true && Boolean(claim.maximumTimeoutSeconds),
    seen: claim.lastSeenAt !== undefined,
    protectedOnly: match.accessLevel === 'ref_protected',
    tags: tags.length,
    untagged: match.runUntagged,
  };
  return { values, shape };
}

/** Where a claim runs: the connection lane that lets every other statement go first (PostgreSQL). */
function claiming(ctx: SqlContext): Pick<SqlContext, 'db' | 'flavor'> {
  return ctx.claimDb === undefined ? ctx : { db: ctx.claimDb, flavor: ctx.flavor };
}

export async function claimPendingJob(
  ctx: SqlContext,
  match: RunnerMatch,
  claim: JobClaim,
): Promise<JobRecord | null> {
  if (match.tagList.length === 0 && !match.runUntagged) return null;
  const { values, shape } = claimInputs(ctx, match, claim);
  const [row] = await translateConstraints('a job with this token exists', () =>
    runTemplate<Selectable<JobsTable>>(claiming(ctx), `claim:${JSON.stringify(shape)}`, values, (slot) =>
      claimQuery(ctx, shape, slot),
    ),
  );
  return row === undefined ? null : toJob(row);
}

/** Every column of a pipeline row (the compiler checks the list against the table's type). */
const PIPELINE_ROW: Record<keyof PipelinesTable, true> = {
  id: true,
  iid: true,
  project_id: true,
  ref: true,
  sha: true,
  before_sha: true,
  tag: true,
  source: true,
  status: true,
  yaml_errors: true,
  name: true,
  stages: true,
  yaml_variables: true,
  variables: true,
  user_id: true,
  created_at: true,
  updated_at: true,
  started_at: true,
  finished_at: true,
  committed_at: true,
  parent_pipeline_id: true,
  parent_job_id: true,
};
const PIPELINE_COLUMNS = Object.keys(PIPELINE_ROW) as (keyof PipelinesTable)[];
/** The prefix of the pipeline's columns in a claim's row (no job column starts with it). */
const PIPELINE_PREFIX = 'pipeline__';

/**
 * See `PipelineStore.claimPendingJobWithPipeline`. PostgreSQL: the claim is a data-modifying CTE
 * and the same statement joins the claimed row's pipeline (one round trip instead of two: the claim
 * and the read of its answer). SQLite: see `claimThenReadPipeline`.
 */
export async function claimPendingJobWithPipeline(
  ctx: SqlContext,
  match: RunnerMatch,
  claim: JobClaim,
): Promise<{ job: JobRecord; pipeline: PipelineRecord | undefined } | null> {
  if (ctx.flavor.name !== 'postgres') return claimThenReadPipeline(ctx, match, claim);
  if (match.tagList.length === 0 && !match.runUntagged) return null;
  const { values, shape } = claimInputs(ctx, match, claim);
  const [row] = await translateConstraints('a job with this token exists', () =>
    runTemplate<Record<string, unknown>>(
      claiming(ctx),
      `claimWithPipeline:${JSON.stringify(shape)}`,
      values,
      (slot) =>
        ctx.db
          .with('claimed', () => claimQuery(ctx, shape, slot))
          .selectFrom('claimed')
          .leftJoin('pipelines', 'pipelines.id', 'claimed.pipeline_id')
          .selectAll('claimed')
          .select(PIPELINE_COLUMNS.map((c) => sql.ref(`pipelines.${c}`).as(`${PIPELINE_PREFIX}${c}`))),
    ),
  );
  if (row === undefined) return null;
  const job = toJob(row as unknown as Selectable<JobsTable>);
  if (row[`${PIPELINE_PREFIX}id`] === null || row[`${PIPELINE_PREFIX}id`] === undefined)
    return { job, pipeline: undefined };
  const pipelineRow = Object.fromEntries(PIPELINE_COLUMNS.map((c) => [c, row[`${PIPELINE_PREFIX}${c}`]]));
  return { job, pipeline: toPipeline(pipelineRow as unknown as Selectable<PipelinesTable>) };
}

/**
 * SQLite: the claim (`UPDATE … RETURNING`), then the read of its pipeline, on the one connection
 * held for both (no other statement of this process runs between them), in one store call instead
 * of two. The claim commits on its own, as `claimPendingJob` does (no transaction: the read needs
 * no atomicity with it, only to come after it), so the read sees the claim and every write
 * committed before it: it is the read the caller would otherwise make right after the claim, only
 * earlier. Durability is unchanged: the claim's commit is acknowledged to the runner only after
 * the group commit's WAL sync, as before; the read writes nothing. A read that fails leaves the
 * claim committed: the call still answers the job (without the pipeline, which the caller then
 * reads itself), so that a failure after the claim puts the job back to pending as before
 * (scheduler/queue/claim.ts) instead of leaving it claimed by nobody.
 */
async function claimThenReadPipeline(
  ctx: SqlContext,
  match: RunnerMatch,
  claim: JobClaim,
): Promise<{ job: JobRecord; pipeline: PipelineRecord | undefined } | null> {
  if (match.tagList.length === 0 && !match.runUntagged) return null;
  return ctx.db.connection().execute(async (db) => {
    const held: SqlContext = { db, flavor: ctx.flavor, now: () => ctx.now() };
    const job = await claimPendingJob(held, match, claim);
    if (job === null) return null;
    const pipeline = await getPipeline(held, job.pipelineId).catch(() => null);
    return { job, pipeline: pipeline ?? undefined };
  });
}

interface ClaimShape {
  fromDefinition: boolean;
  capped: boolean;
  seen: boolean;
  protectedOnly: boolean;
  tags: number;
  untagged: boolean;
}

/** The claim statement of `shape`; `slot(i)` stands for the i-th value of `claimPendingJob`. */
function claimQuery(ctx: SqlContext, shape: ClaimShape, slot: SlotOf) {
  const { flavor } = ctx;
  return ctx.db
    .updateTable('jobs')
    .set({
      status: 'running',
      runner_id: slot(0),
      runner_system_id: slot(1),
      token_hash: slot(2),
      started_at: slot(3),
      timeout_seconds: timeoutOf(ctx, shape, slot),
      ...(shape.seen ? { last_seen_at: slot(6) } : {}),
      updated_at: slot(7),
    })
    .where('status', '=', 'pending')
    .where('id', '=', (eb) =>
      eb
        .selectFrom('jobs')
        .select('id')
        .where('status', '=', 'pending')
        .where('kind', '=', 'build')
        .where((inner) => runnerMayTake(ctx, inner, shape, slot))
        .orderBy('id')
        .limit(1)
        .$if(flavor.rowLocks, (qb) => qb.forUpdate().skipLocked()),
    )
    .returningAll();
}

/** The claim's timeout, or the definition's capped at the runner's maximum (see JobClaim). */
function timeoutOf(ctx: SqlContext, shape: ClaimShape, slot: SlotOf): number | Expression<number> {
  if (!shape.fromDefinition) return slot(4);
  const wanted = sql<number>`coalesce(${ctx.flavor.jobTimeoutSeconds()}, ${slot(4)})`;
  return shape.capped ? smallerOf(ctx, wanted, slot(5)) : wanted;
}

/** `flavor.smaller` with its bound as a slot (the flavor takes a number; the slot stands for one). */
function smallerOf(ctx: SqlContext, value: Expression<number>, bound: never): Expression<number> {
  return ctx.flavor.smaller(value, bound);
}

/** Job tags ⊆ runner tags; untagged jobs only for runUntagged; ref_protected runners only protected jobs. */
function runnerMayTake(
  ctx: SqlContext,
  eb: ExpressionBuilder<Database, 'jobs'>,
  shape: ClaimShape,
  slot: SlotOf,
): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [];
  if (shape.protectedOnly) conditions.push(eb('protected', '=', ctx.flavor.toBool(true)));
  if (shape.tags === 0) {
    conditions.push(eb('tag_list', '=', UNTAGGED));
  } else {
    const tags = Array.from({ length: shape.tags }, (_, i) => slot(TAGS_AT + i));
    conditions.push(ctx.flavor.jobTagsWithin(tags));
    if (!shape.untagged) conditions.push(eb('tag_list', '<>', UNTAGGED));
  }
  return eb.and(conditions);
}
