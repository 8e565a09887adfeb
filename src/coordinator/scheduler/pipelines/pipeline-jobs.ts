/**
 * The jobs of one pipeline as one processing sees them: listed once from the store, then kept up
 * to date with the processing's own compare-and-set writes (the store returns the row it wrote).
 * A write that did not apply, or a move that changed jobs the view cannot follow (a bridge's child
 * pipeline), marks the view stale and the next read lists the jobs again.
 *
 * Changes made outside the processing (a claim, another coordinator) are not seen until the next
 * processing; each of them processes the pipeline again afterwards, as before.
 */
import type { JobRecord, PipelineStore } from '../../store/store.js';

export class PipelineJobs {
  readonly #store: PipelineStore;
  readonly pipelineId: number;
  readonly #onListed: ((jobs: readonly JobRecord[]) => void) | undefined;
  #jobs: JobRecord[] | null = null;

  /**
   * `onListed` sees each listing (the scheduler keeps what the definitions say, quiet-finish.ts);
   * `listed`, the pipeline's visible jobs read just before by the caller, is the first listing.
   */
  constructor(
    store: PipelineStore,
    pipelineId: number,
    onListed?: (jobs: readonly JobRecord[]) => void,
    listed?: readonly JobRecord[],
  ) {
    this.#store = store;
    this.pipelineId = pipelineId;
    this.#onListed = onListed;
    if (listed !== undefined) {
      this.#jobs = [...listed];
      onListed?.(listed);
    }
  }

  /** The pipeline's visible jobs (retried ones hidden), by id; lists them when stale. */
  async jobs(): Promise<readonly JobRecord[]> {
    if (this.#jobs === null) {
      const { items } = await this.#store.listJobs({ pipelineId: this.pipelineId });
      this.#jobs = items;
      this.#onListed?.(items);
    }
    return this.#jobs;
  }

  /** Takes in the row a write of this processing returned (null: it did not apply). */
  apply(written: JobRecord | null): void {
    if (this.#jobs === null) return;
    if (written === null) {
      this.invalidate();
      return;
    }
    if (written.pipelineId !== this.pipelineId) return;
    const index = this.#jobs.findIndex((j) => j.id === written.id);
    if (index < 0 || written.retried) this.invalidate();
    else this.#jobs[index] = written;
  }

  /** The next read lists the jobs again. */
  invalidate(): void {
    this.#jobs = null;
  }
}
