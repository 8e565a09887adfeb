/**
 * Runs under the scheduler's per-pipeline locks, counted: whether locked work on a pipeline started
 * since a moment. A finish written outside the lock reads the pipeline's jobs outside it too; its
 * processing, under the lock, may start from that listing only when no locked work on the pipeline
 * (a cancel, a retry, another processing) ran or waited since the listing was sent (see
 * Scheduler.finish).
 */
/** Where a listing read outside a pipeline's lock stands among the locked runs (see LockedRuns.mark). */
export interface RunMark {
  pipelineId: number;
  /** Locked runs started (of any pipeline) when the listing was sent; null: one was queued or running. */
  at: number | null;
  forgotten: number;
}

/**
 * Counts the runs under the pipelines' locks: whether any run of a pipeline started since a moment.
 * The per-pipeline numbers are bounded; once they are forgotten, every mark taken before says
 * "something ran" (the listing is read again: only a store call is lost, never a state).
 */
export class LockedRuns {
  #count = 0;
  #forgotten = 0;
  readonly #last = new Map<number, number>();

  constructor(private readonly max: number) {}

  started(pipelineId: number): void {
    this.#count += 1;
    if (this.#last.size >= this.max && !this.#last.has(pipelineId)) {
      this.#last.clear();
      this.#forgotten += 1;
    }
    this.#last.set(pipelineId, this.#count);
  }

  /** Now, for a pipeline whose lock is `busy` (queued or running work) or free. */
  mark(pipelineId: number, busy: boolean): RunMark {
    return { pipelineId, at: busy ? null : this.#count, forgotten: this.#forgotten };
  }

  /** Whether no locked run of the mark's pipeline started since it was taken (nor was queued then). */
  noneSince(mark: RunMark): boolean {
    if (mark.at === null || mark.forgotten !== this.#forgotten) return false;
    return (this.#last.get(mark.pipelineId) ?? 0) <= mark.at;
  }
}
