/**
 * A job's finish without listing the pipeline's jobs, when it cannot move the pipeline (in the
 * spirit of after-claim.ts). Processing after a finish does three things: it moves `created` jobs
 * whose prerequisites are now done, frees the finished job's resource group, and writes the status
 * the jobs give. None of them changes when all of this holds:
 * - the job succeeded (a failure may retry it, or run `when: on_failure` jobs);
 * - no job of the pipeline names it in `needs` (a job of a later stage without `needs` waits for
 *   every earlier stage instead);
 * - the pipeline has no bridge and no resource group (their moves follow other rules);
 * - the store still has a job `running` or `pending` in the finished job's stage or an earlier
 *   one. That job holds back every later job without `needs` (a prerequisite that runs or waits
 *   for a runner gives no status to move on), and a pipeline with a running or pending job beside a
 *   successful one is `running` (see compositeStatus), as it was while the finished job ran. Jobs
 *   with `needs` on other jobs see the same prerequisites as before. (A pending job as the holder:
 *   one runner taking a stage's jobs one after the other, or a stage with more jobs than runners.)
 *
 * The first three facts come from the job definitions, which never change once a pipeline exists
 * (a retry adds a copy of a job, with its name and definition), so they are kept per pipeline in a
 * bounded map: right for every replica. The last is read from the store after the finish was
 * written, so of two jobs finishing at once on two coordinators, at least one sees the other
 * finished and processes the pipeline in full; the last job under way always does (a pending
 * holder is claimed and finished before it is done, and its own finish reads after its write).
 */
import type { JobRecord } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';

/** What a pipeline's job definitions say about finishes (immutable, see above). */
export interface PipelineShape {
  /** Job names that some job lists in `needs`. */
  needed: ReadonlySet<string>;
  /** A bridge or a resource group: every finish is processed in full. */
  alwaysProcess: boolean;
}

export function shapeOf(jobs: readonly JobRecord[]): PipelineShape {
  const needed = new Set<string>();
  let alwaysProcess = false;
  for (const job of jobs) {
    for (const need of job.definition.needs ?? []) needed.add(need.job);
    if (job.definition.trigger || job.definition.resourceGroup) alwaysProcess = true;
  }
  return { needed, alwaysProcess };
}

/** The shapes of pipelines this process listed; bounded (a missing shape means full processing). */
export class PipelineShapes {
  readonly #shapes = new Map<number, PipelineShape>();

  constructor(private readonly max = 10_000) {}

  get(pipelineId: number): PipelineShape | undefined {
    return this.#shapes.get(pipelineId);
  }

  /** Records the shape of a pipeline from its listed jobs. */
  record(pipelineId: number, jobs: readonly JobRecord[]): void {
    if (this.#shapes.has(pipelineId)) return;
    if (this.#shapes.size >= this.max) this.#shapes.clear();
    this.#shapes.set(pipelineId, shapeOf(jobs));
  }
}

function namedInNeeds(job: JobRecord, shape: PipelineShape): boolean {
  const base = job.definition.baseName;
  return shape.needed.has(job.name) || (base !== undefined && base !== null && shape.needed.has(base));
}

/** Whether the definitions alone let the finish that wrote `finished` be quiet (the first three facts). */
export function mayBeQuiet(finished: JobRecord, shape: PipelineShape | undefined): boolean {
  if (shape === undefined || shape.alwaysProcess) return false;
  if (finished.status !== 'success' || finished.retried) return false;
  if (finished.definition.trigger || finished.definition.resourceGroup) return false;
  return !namedInNeeds(finished, shape);
}

/** Whether the finish that wrote `finished` leaves the pipeline as it is (see above). */
export async function finishMovesNothing(
  deps: SchedulerDeps,
  finished: JobRecord,
  shape: PipelineShape | undefined,
): Promise<boolean> {
  return (await finishListing(deps, finished, shape)) === 'quiet';
}

/**
 * `finishMovesNothing` and, when it is false, the listing the full processing starts from, in one
 * read: `'quiet'` when the finish leaves the pipeline as it is; the pipeline's jobs when the running
 * job check was made and found none (the processing need not list them again); undefined when the
 * definitions alone call for the full processing (it lists the jobs itself). The read is its own
 * statement after the finish's commit (see above).
 */
export async function finishListing(
  deps: SchedulerDeps,
  finished: JobRecord,
  shape: PipelineShape | undefined,
): Promise<'quiet' | readonly JobRecord[] | undefined> {
  if (!mayBeQuiet(finished, shape)) return undefined;
  const jobs = await deps.store.listJobsUnlessUnderway(finished.pipelineId, finished.stageIdx);
  return jobs.length === 0 ? 'quiet' : jobs;
}
