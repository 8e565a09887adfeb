/**
 * Job heartbeats (a trace PATCH or a `running` status PUT), written in batches. A running job's
 * runner calls in every few seconds; writing `lastSeenAt` on each call was one store write per
 * request. Here the latest time per job is kept in memory and written for all jobs at once, at
 * most every `intervalMs`, in one statement (`Store.touchJobs`).
 *
 * A heartbeat is not data the runner was promised: it only tells the watchdog a job is alive
 * (its limits are minutes, the delay here at most `intervalMs` plus one write). A crash loses at
 * most the last interval of heartbeats, as if the runner had called a little earlier.
 */
import type { Logger } from '../../../shared/logger.js';
import type { PipelineStore } from '../../store/store.js';

export const HEARTBEAT_INTERVAL_MS = 1000;

export class JobHeartbeats {
  readonly #store: Pick<PipelineStore, 'touchJobs'>;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #pending = new Map<number, Date>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(store: Pick<PipelineStore, 'touchJobs'>, logger: Logger, intervalMs = HEARTBEAT_INTERVAL_MS) {
    this.#store = store;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** Records that the job's runner called in at `at`; written with the next batch. */
  touch(jobId: number, at: Date): void {
    const known = this.#pending.get(jobId);
    if (known === undefined || known.getTime() < at.getTime()) this.#pending.set(jobId, at);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** The job finished: its pending heartbeat no longer matters (touchJobs skips finished jobs). */
  forget(jobId: number): void {
    this.#pending.delete(jobId);
  }

  /** Writes what is pending now (also on shutdown); batches never overlap. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    let latest = 0;
    for (const at of batch.values()) latest = Math.max(latest, at.getTime());
    try {
      // One statement with the batch's latest time: at most `intervalMs` after each job's call.
      await this.#store.touchJobs([...batch.keys()], new Date(latest));
    } catch (err) {
      this.#logger.warn({ err: String(err), jobs: batch.size }, 'job heartbeats not written');
    }
  }
}
