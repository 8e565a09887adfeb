/**
 * The pipeline's move after a claim, without listing its jobs. A job that starts moves no other
 * job (transitions follow finished jobs) and frees no resource group, and a pipeline with a
 * running job is `running` whatever its other jobs (see compositeStatus). So a claim of a job
 * without an environment changes exactly one thing: a pipeline that was not `running` becomes
 * `running`. That is one compare-and-set write on the status read after the claim. When the
 * pipeline moved in between, the write does not apply: usually another claim of the same pipeline
 * wrote `running` first (many jobs of a pipeline start at once), and then nothing is left to do;
 * otherwise (a cancel, another coordinator) the pipeline is processed in full.
 */
import type { PipelineStatus } from '../../../api/job-status.js';
import type { PipelineRecord } from '../../store/store.js';
import type { SchedulerDeps } from '../deps.js';
import { processPipeline } from '../pipelines/process-pipeline.js';

/**
 * The statuses the compare-and-set to `running` accepts for a pipeline the claim read with
 * `status`. A pipeline not started yet is `created` until its creation's processing writes
 * `pending`, and that write comes right after the jobs are queued, so the first claim, woken by the
 * queueing, usually read `created` and found `pending`. Either way no job had started and a job now
 * runs, so `running` is right for both (compositeStatus): accepting both saves that claim a failed
 * write, a read and a full processing before its 201. Any other status must be the one read.
 */
function startableFrom(status: PipelineStatus): PipelineStatus[] {
  return status === 'created' || status === 'pending' ? ['created', 'pending'] : [status];
}

/**
 * Marks the pipeline `running` if it still has the status it was read with (see `startableFrom`);
 * returns the pipelines to process next (its parent, whose status follows it), or null when the
 * write did not apply.
 */
export async function markRunningAfterClaim(
  deps: SchedulerDeps,
  pipeline: PipelineRecord,
  witness?: WriteWitness,
): Promise<number[] | null> {
  const now = deps.clock.now();
  const updated = await deps.store.updatePipeline(
    pipeline.id,
    { status: 'running', startedAt: pipeline.startedAt ?? now, finishedAt: null },
    startableFrom(pipeline.status),
  );
  if (!updated) return null;
  witness?.wrote(updated);
  deps.logger.info(
    { pipelineId: pipeline.id, status: 'running', previous: pipeline.status },
    'pipeline status changed',
  );
  return pipeline.parentPipelineId === null ? [] : [pipeline.parentPipelineId];
}

/**
 * Pipelines this process marked `running` after a claim. Many jobs of a pipeline start at once and
 * each claim read the pipeline before the first one's write, so every later claim's compare-and-set
 * would fail and be followed by a read: for a pipeline in this set, the read comes first and the
 * write only when the pipeline is not `running` any more. A hint only (the read decides), bounded.
 */
export class MarkedRunning {
  readonly #ids = new Set<number>();

  constructor(private readonly max = 10_000) {}

  has(id: number): boolean {
    return this.#ids.has(id);
  }

  add(id: number): void {
    if (this.#ids.size >= this.max) this.#ids.clear();
    this.#ids.add(id);
  }
}

/** Who hears of the compare-and-set to `running` (the claim's first-claims ticket, first-claims.ts). */
export interface WriteWitness {
  wrote(pipeline: PipelineRecord): void;
}

/** The pipelines to process after the claim's write (see above), reading the pipeline once more only when the write did not apply. */
export async function afterClaim(
  deps: SchedulerDeps,
  pipeline: PipelineRecord,
  marked?: MarkedRunning,
  witness?: WriteWitness,
): Promise<number[]> {
  if (pipeline.status !== 'running' && marked?.has(pipeline.id)) {
    const current = await deps.store.getPipeline(pipeline.id);
    if (current?.status === 'running') return [];
    // Moved since the claim read it (a cancel, another coordinator): the full processing decides,
    // as when the compare-and-set below does not apply.
    if (current?.status !== pipeline.status) return processPipeline(deps, pipeline.id);
  }
  const moved = await markRunningAfterClaim(deps, pipeline, witness);
  if (moved) {
    marked?.add(pipeline.id);
    return moved;
  }
  const current = await deps.store.getPipeline(pipeline.id);
  return current?.status === 'running' ? [] : processPipeline(deps, pipeline.id);
}
