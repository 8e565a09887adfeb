/**
 * Log appends of many jobs written together (PostgreSQL). Under a thousand runner clients, trace
 * PATCHes are a third of the coordinator's statements and each one was its own round trip and its
 * own commit (a WAL flush). Here an append that arrives while `maxInFlight` batches are already
 * being written waits for one of them to end and then goes out with every other append that
 * arrived meanwhile, in ONE statement: one round trip, one commit, however many jobs. With nothing
 * in flight an append goes out at once, alone, as before, so a lone runner waits for nothing.
 *
 * Each append keeps its own compare-and-set (it is written only when the job's stored size is its
 * offset), so a batch changes no answer, only how many appends share a commit. Every caller is
 * answered after the statement that wrote its bytes committed: nothing is acknowledged before it
 * is durable. A job appears once per batch (a second append of the same job waits for the next
 * one, in order). A batch carries `maxBytes` of logs at most (its bytes travel hex-encoded in
 * the statement). When a batch statement fails, its appends are written one by one, so one bad
 * append cannot fail the others; when it failed because the database is unreachable, every
 * append of the batch fails with that error at once (each would).
 */
import { isStoreUnavailable } from '../unavailable.js';

export interface Append {
  jobId: number;
  offset: number;
  data: Buffer;
}

export interface AppendBatchOptions {
  /** Writes one append; true when it was written (its offset was the stored size). */
  one(append: Append): Promise<boolean>;
  /** Writes several appends of distinct jobs in one statement; the ids of the jobs written. */
  many(appends: readonly Append[]): Promise<ReadonlySet<number>>;
  /** Batches being written at once at most. */
  maxInFlight?: number;
  /** Appends in one batch at most. */
  maxBatch?: number;
  /** Bytes of logs in one batch at most (a larger single append still goes, alone). */
  maxBytes?: number;
}

interface Waiting extends Append {
  resolve(appended: boolean): void;
  reject(err: unknown): void;
}

export class AppendBatch {
  readonly #one: AppendBatchOptions['one'];
  readonly #many: AppendBatchOptions['many'];
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  readonly #maxBytes: number;
  #queue: Waiting[] = [];
  #inFlight = 0;
  /** Jobs with an append in a batch being written: their next append waits for it. */
  readonly #writing = new Set<number>();

  constructor(options: AppendBatchOptions) {
    this.#one = options.one;
    this.#many = options.many;
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 2);
    this.#maxBatch = Math.max(1, options.maxBatch ?? 200);
    this.#maxBytes = Math.max(1, options.maxBytes ?? 1024 * 1024);
  }

  /** Appends waiting for a batch. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** True when `data` was appended at `offset` (the stored size was `offset`). */
  append(jobId: number, offset: number, data: Buffer): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ jobId, offset, data, resolve, reject });
      this.#send();
    });
  }

  #send(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      if (batch.length === 0) return;
      this.#inFlight++;
      for (const item of batch) this.#writing.add(item.jobId);
      void this.#write(batch).finally(() => {
        for (const item of batch) this.#writing.delete(item.jobId);
        this.#inFlight--;
        this.#send();
      });
    }
  }

  /**
   * The oldest appends, one per job and none of a job being written, up to the batch's size; the
   * rest stay queued in order.
   */
  #take(): Waiting[] {
    const batch: Waiting[] = [];
    const rest: Waiting[] = [];
    const jobs = new Set<number>();
    let bytes = 0;
    for (const item of this.#queue) {
      const fits =
        batch.length === 0 || (batch.length < this.#maxBatch && bytes + item.data.length <= this.#maxBytes);
      if (fits && !jobs.has(item.jobId) && !this.#writing.has(item.jobId)) {
        jobs.add(item.jobId);
        bytes += item.data.length;
        batch.push(item);
      } else rest.push(item);
    }
    this.#queue = rest;
    return batch;
  }

  async #write(batch: readonly Waiting[]): Promise<void> {
    const [first] = batch;
    if (batch.length === 1 && first !== undefined) return this.#writeOne(first);
    let written: ReadonlySet<number>;
    try {
      written = await this.#many(batch);
    } catch (err) {
      if (isStoreUnavailable(err)) {
        for (const item of batch) item.reject(err);
        return;
      }
      // One append may be what failed the statement: each is written (and answered) alone.
      await Promise.all(batch.map((item) => this.#writeOne(item)));
      return;
    }
    for (const item of batch) item.resolve(written.has(item.jobId));
  }

  async #writeOne(item: Waiting): Promise<void> {
    try {
      item.resolve(await this.#one(item));
    } catch (err) {
      item.reject(err);
    }
  }
}
