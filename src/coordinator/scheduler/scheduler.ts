/**
 * The coordinator's domain facade: pipeline creation and processing, job claims and actions,
 * the watchdog. Pipeline processing is serialised per pipeline inside this process (a quiet
 * success is written and checked outside that lock, as another coordinator's would be, see
 * finish); the store's compare-and-set updates keep several coordinators on one database correct.
 */
import type { JobRecord, PipelineRecord, RunnerRecord } from '../store/store.js';
import { isCompleted } from '../../api/job-status.js';
import { FlotillaError } from '../../shared/errors.js';
import { afterClaim, MarkedRunning, type WriteWitness } from './queue/after-claim.js';
import { afterFinish } from './jobs/after-finish.js';
import { isBridge } from './bridges/bridges.js';
import { cancelRedundant } from './pipelines/auto-cancel.js';
import { claimJob, returnUnanswered, type ClaimedJob } from './queue/claim.js';
import { BOUNDED_CLAIMS_IN_FLIGHT, ClaimGate } from './queue/claim-gate.js';
import { FirstClaims } from './queue/first-claims.js';
import { createPipeline, type CreatePipelineInput } from './pipelines/create-pipeline.js';
import type { SchedulerDeps } from './deps.js';
import { recordEnvironmentStart, syncEnvironmentJobs } from './environments/environment-jobs.js';
import { cancelJob, finishJob, playJob, requeueJob, retryJobs, type JobResult } from './jobs/job-actions.js';
import { JobHeartbeats } from './watchdog/heartbeats.js';
import { processPipeline } from './pipelines/process-pipeline.js';
import { LockedRuns } from './pipelines/locked-runs.js';
import { finishListing, mayBeQuiet, PipelineShapes } from './pipelines/quiet-finish.js';
import { runWatchdog } from './watchdog/watchdog.js';

const RETRYABLE = new Set(['failed', 'canceled']);
const MAX_REMEMBERED = 10_000;

/**
 * A job still `canceling` is neither retryable nor finished: GitLab's retry skips it and the
 * pipeline then ends canceled, with nothing retried. We refuse clearly instead.
 */
function refuseWhileCanceling(pipeline: PipelineRecord, jobs: JobRecord[]): void {
  const canceling = jobs.filter((j) => j.status === 'canceling');
  if (canceling.length === 0) return;
  const names = canceling.map((j) => `${j.name} (#${j.id})`).join(', ');
  throw new FlotillaError(
    'FLO_ERR_CONFLICT',
    `409 Conflict - pipeline ${pipeline.id} cannot be retried while jobs are still canceling: ${names}; ` +
      'retry once they are canceled (the pipeline status is then canceled)',
    { details: { pipelineId: pipeline.id, jobs: canceling.map((j) => j.id) } },
  );
}

/**
 * A job that starts moves no other job (transitions follow finished jobs), and a pipeline with a
 * running job is `running` whatever its other jobs (see compositeStatus). So after a claim,
 * processing changes something only when the pipeline was not `running` yet, or when the job's
 * deployment must mirror its start.
 */
export function needsProcessingAfterClaim(claimed: ClaimedJob): boolean {
  return claimed.pipelineStatus !== 'running' || Boolean(claimed.job.definition.environment);
}

export class Scheduler {
  readonly deps: SchedulerDeps;
  /** lastSeenAt of running jobs, written in batches (see heartbeats.ts). */
  readonly heartbeats: JobHeartbeats;
  /**
   * Job requests' claims start here: on SQLite after the updates of running jobs read meanwhile,
   * on PostgreSQL at most the store's connections at once (claim-gate.ts).
   */
  readonly claimGate: ClaimGate;
  readonly #locks = new Map<number, Promise<void>>();
  /** Processings asked for and not yet started, by pipeline (see `process`). */
  readonly #queuedProcessing = new Map<number, Promise<void>>();
  /** Pipelines this process marked running after a claim (a hint, see after-claim.ts). */
  readonly #markedRunning = new MarkedRunning();
  /** Claims of a pipeline not yet marked running read it after the first one's write (first-claims.ts). */
  readonly #firstClaims: FirstClaims;
  /** Pipelines known to have no environment job: their processing skips the environment sync. */
  readonly #withoutEnvironments = new Set<number>();
  /** What the job definitions of pipelines listed here say about finishes (see quiet-finish.ts). */
  readonly #shapes = new PipelineShapes();
  /** Locked runs started so far, and the number of the last one per pipeline (see #finishUnserialised). */
  readonly #runs = new LockedRuns(MAX_REMEMBERED);
  #timer: NodeJS.Timeout | undefined;
  #watchdogRunning = false;

  constructor(deps: SchedulerDeps) {
    this.deps = deps;
    this.heartbeats = new JobHeartbeats(deps.store, deps.logger);
    this.claimGate =
      deps.prioritiseUpdates === false
        ? ClaimGate.bounded(deps.claimsInFlight ?? BOUNDED_CLAIMS_IN_FLIGHT)
        : new ClaimGate();
    this.#firstClaims = new FirstClaims(
      (id) => deps.store.getPipeline(id),
      (id) => this.#markedRunning.has(id),
    );
  }

  /**
   * Runs `fn` after earlier work on the same pipeline finished. `fn` may return ids of other
   * pipelines to process afterwards (outside this pipeline's lock).
   */
  async #serial(pipelineId: number, fn: () => Promise<number[] | void>): Promise<void> {
    const previous = this.#locks.get(pipelineId) ?? Promise.resolve();
    let others: number[] = [];
    const run = async (): Promise<void> => {
      this.#runs.started(pipelineId);
      others = (await fn()) ?? [];
      if (this.#withoutEnvironments.has(pipelineId)) return;
      if (await syncEnvironmentJobs(this.deps, pipelineId)) return;
      this.#rememberWithoutEnvironments(pipelineId);
    };
    const next = previous.then(run, run);
    const settled = next.catch(() => undefined);
    this.#locks.set(pipelineId, settled);
    try {
      await next;
    } finally {
      if (this.#locks.get(pipelineId) === settled) this.#locks.delete(pipelineId);
    }
    for (const id of others) await this.process(id);
  }

  #rememberWithoutEnvironments(pipelineId: number): void {
    if (this.#withoutEnvironments.size >= MAX_REMEMBERED) this.#withoutEnvironments.clear();
    this.#withoutEnvironments.add(pipelineId);
  }

  /**
   * Processes the pipeline after the work already queued on it. A processing asked for while
   * another one of the same pipeline waits for its turn joins that one: it has not read anything
   * yet, so it sees every write made before either was asked for (the jobs of a stage that end
   * together, each finding that the stage may have ended, cost two processings, not one each).
   */
  process(pipelineId: number): Promise<void> {
    const queued = this.#queuedProcessing.get(pipelineId);
    if (queued !== undefined) return queued;
    const processing: Promise<void> = this.#serial(pipelineId, () => {
      if (this.#queuedProcessing.get(pipelineId) === processing) this.#queuedProcessing.delete(pipelineId);
      return this.#processPipeline(pipelineId);
    });
    this.#queuedProcessing.set(pipelineId, processing);
    return processing;
  }

  /** Processes the pipeline, keeping what its job definitions say about finishes. */
  #processPipeline(pipelineId: number, listed?: readonly JobRecord[]): Promise<number[]> {
    return processPipeline(this.deps, pipelineId, (jobs) => this.#shapes.record(pipelineId, jobs), listed);
  }

  async createPipeline(input: CreatePipelineInput): Promise<PipelineRecord> {
    const { pipeline, jobs, autoCancelOnNewCommit } = await createPipeline(this.deps, input);
    await this.#processCreated(pipeline.id, jobs);
    if (input.source === 'push' || input.source === 'api' || input.source === 'web') {
      for (const id of await cancelRedundant(this.deps, pipeline, autoCancelOnNewCommit)) {
        await this.#cancelChildren(id);
        await this.process(id);
      }
    }
    return (await this.deps.store.getPipeline(pipeline.id)) ?? pipeline;
  }

  /**
   * A new pipeline's first processing starts from the jobs its creation stored: nothing can have
   * moved them since but a cancel, and a cancel makes the processing's compare-and-set writes fail,
   * so it lists the jobs again (see PipelineJobs). A pipeline whose job definitions name no
   * environment skips the environment sync: definitions never change (a retry copies them), so
   * the sync's listing would find none. Two store calls fewer before a new pipeline's first job
   * can be claimed and marked running.
   */
  async #processCreated(pipelineId: number, jobs: readonly JobRecord[]): Promise<void> {
    if (jobs.length === 0) return this.process(pipelineId);
    if (!jobs.some((j) => j.definition.environment)) this.#rememberWithoutEnvironments(pipelineId);
    await this.#serial(pipelineId, () => this.#processPipeline(pipelineId, jobs));
  }

  async claim(runner: RunnerRecord, systemId: string | null): Promise<ClaimedJob | null> {
    const ticket = this.#firstClaims.ticket();
    try {
      const claimed = await claimJob(this.deps, runner, systemId, (id, withClaim) =>
        ticket.readPipeline(id, withClaim),
      );
      if (!claimed) return null;
      await this.#processAfterClaim(claimed, ticket);
      return claimed;
    } finally {
      ticket.done();
    }
  }

  async #processAfterClaim(claimed: ClaimedJob, witness?: WriteWitness): Promise<void> {
    try {
      await recordEnvironmentStart(this.deps, claimed);
      if (needsProcessingAfterClaim(claimed)) await this.#afterClaim(claimed, witness);
    } catch (err) {
      // The runner gets the error, not the job: it goes back to pending (see returnUnanswered).
      await this.#serial(claimed.job.pipelineId, async () => {
        await returnUnanswered(this.deps, claimed.job, err);
        return processPipeline(this.deps, claimed.job.pipelineId);
      }).catch(() => undefined);
      throw err;
    }
  }

  /** A job with an environment needs the full processing (its deployment); others one write. */
  async #afterClaim(claimed: ClaimedJob, witness?: WriteWitness): Promise<void> {
    const { pipeline, job } = claimed;
    if (!pipeline || job.definition.environment) return this.process(job.pipelineId);
    await this.#serial(pipeline.id, () => afterClaim(this.deps, pipeline, this.#markedRunning, witness));
  }

  /** Returns a claimed job whose runner never got the answer to the queue. */
  async requeue(job: JobRecord): Promise<void> {
    await this.#serial(job.pipelineId, async () => {
      await requeueJob(this.deps, job);
      return processPipeline(this.deps, job.pipelineId);
    });
  }

  async finish(job: JobRecord, result: JobResult): Promise<JobRecord | null> {
    if (this.#mayFinishUnserialised(job, result)) return this.#finishUnserialised(job, result);
    let updated: JobRecord | null = null;
    await this.#serial(job.pipelineId, async () => {
      updated = await finishJob(this.deps, job, result);
      if (updated) this.heartbeats.forget(job.id);
      if (updated) await afterFinish(this.deps, updated);
      const shape = this.#shapes.get(job.pipelineId);
      // One read after the finish's commit: quiet, or the listing the processing starts from.
      const listed = updated ? await finishListing(this.deps, updated, shape) : undefined;
      if (listed === 'quiet') return [];
      return this.#processPipeline(job.pipelineId, listed);
    });
    return updated;
  }

  /**
   * Whether the finish may be written and checked outside the pipeline's lock: a success that the
   * definitions let be quiet (see quiet-finish.ts), of a pipeline known to have no environment job
   * (whose sync runs after every locked step). Such a finish is what two coordinators do at once
   * anyway: each writes its finish, then reads whether a job of its stage or an earlier one still
   * runs, so of two finishes at once at least one sees the other and processes the pipeline in full
   * (under the lock). Unserialised, the many jobs of a stage that end at once no longer wait for
   * each other's write and read (on PostgreSQL, two round trips each, one job after the other).
   */
  #mayFinishUnserialised(job: JobRecord, result: JobResult): boolean {
    if (this.deps.finishQuietly === false) return false;
    if (job.status !== 'running' || result.state !== 'success') return false;
    if (!this.#withoutEnvironments.has(job.pipelineId)) return false;
    return mayBeQuiet({ ...job, status: 'success' }, this.#shapes.get(job.pipelineId));
  }

  async #finishUnserialised(job: JobRecord, result: JobResult): Promise<JobRecord | null> {
    const updated = await finishJob(this.deps, job, result);
    if (!updated) {
      await this.process(job.pipelineId);
      return updated;
    }
    this.heartbeats.forget(job.id);
    // A success retries nothing: this records its coverage only.
    await afterFinish(this.deps, updated);
    const mark = this.#runs.mark(job.pipelineId, this.#locks.has(job.pipelineId));
    const listed = await finishListing(this.deps, updated, this.#shapes.get(job.pipelineId));
    if (listed === 'quiet') return updated;
    // Not quiet: the full processing, under the lock. It starts from the listing just read when no
    // locked work on the pipeline ran or waited since that listing was sent, and none waits now:
    // the listing is then what the processing would read first under the lock (the finish's commit
    // came before it; claims and other unserialised finishes run outside the lock either way), and
    // one store call is saved. Otherwise it lists the jobs itself, as a processing that joins one
    // already waiting for its turn (see `process`).
    const fresh = listed !== undefined && this.#runs.noneSince(mark) && !this.#locks.has(job.pipelineId);
    if (fresh) await this.#serial(job.pipelineId, () => this.#processPipeline(job.pipelineId, listed));
    else await this.process(job.pipelineId);
    return updated;
  }

  async cancelJob(job: JobRecord): Promise<JobRecord> {
    if (isBridge(job)) await this.#cancelChildren(job.pipelineId, job.id);
    let updated = job;
    await this.#serial(job.pipelineId, async () => {
      updated = await cancelJob(this.deps, job);
      return processPipeline(this.deps, job.pipelineId);
    });
    return updated;
  }

  /** Cancels the pipeline's jobs and its child pipelines (first, so no bridge follows a live child). */
  async cancelPipeline(pipeline: PipelineRecord): Promise<void> {
    await this.#cancelChildren(pipeline.id);
    await this.#serial(pipeline.id, async () => {
      const { items } = await this.deps.store.listJobs({ pipelineId: pipeline.id });
      for (const job of items) await cancelJob(this.deps, job);
      return processPipeline(this.deps, pipeline.id);
    });
  }

  /** Cancels the unfinished child pipelines of a pipeline (of one bridge when given), depth first. */
  async #cancelChildren(pipelineId: number, bridgeId?: number): Promise<void> {
    const parent = await this.deps.store.getPipeline(pipelineId);
    if (!parent) return;
    const filter = bridgeId === undefined ? { parentPipelineId: pipelineId } : { parentJobId: bridgeId };
    const { items } = await this.deps.store.listPipelines(parent.projectId, filter, {
      page: 1,
      perPage: 100,
    });
    for (const child of items) {
      if (!isCompleted(child.status)) await this.cancelPipeline(child);
    }
  }

  async retryJob(job: JobRecord, userId: number): Promise<JobRecord> {
    let created: JobRecord[] = [];
    await this.#serial(job.pipelineId, async () => {
      created = await retryJobs(this.deps, [job], userId);
      return processPipeline(this.deps, job.pipelineId);
    });
    const fresh = created[0] ? await this.deps.store.getJob(created[0].id) : null;
    return fresh ?? job;
  }

  async retryPipeline(pipeline: PipelineRecord, userId: number): Promise<void> {
    await this.#serial(pipeline.id, async () => {
      const { items } = await this.deps.store.listJobs({ pipelineId: pipeline.id });
      refuseWhileCanceling(pipeline, items);
      const failed = items.filter((j) => RETRYABLE.has(j.status));
      if (failed.length > 0) await retryJobs(this.deps, failed, userId);
      return processPipeline(this.deps, pipeline.id);
    });
  }

  async playJob(job: JobRecord, userId: number): Promise<JobRecord> {
    let played = job;
    await this.#serial(job.pipelineId, async () => {
      played = await playJob(this.deps, job, userId);
      return processPipeline(this.deps, job.pipelineId);
    });
    return played;
  }

  /** One watchdog pass (also run on an interval by `start`). */
  async tick(): Promise<void> {
    if (this.#watchdogRunning) return;
    this.#watchdogRunning = true;
    try {
      const changed = await runWatchdog(this.deps);
      for (const id of changed) await this.process(id);
    } catch (err) {
      this.deps.logger.error({ err }, 'watchdog pass failed');
    } finally {
      this.#watchdogRunning = false;
    }
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), this.deps.config.watchdogIntervalSeconds * 1000);
    this.#timer.unref();
  }

  /** Stops the watchdog and waits for in-flight pipeline work. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.deps.queue.wakeAll();
    await Promise.all([...this.#locks.values()]);
    await this.heartbeats.flush();
  }
}
