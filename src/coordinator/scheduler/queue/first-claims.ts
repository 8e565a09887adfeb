/**
 * The pipeline read of a claim's answer, after the first claim of a pipeline marked it running.
 * All jobs of a new pipeline are claimed at once; each claim's answer read the pipeline while the
 * first claim's write of `running` had not landed, saw it `pending`, and read it once more after
 * that write (see after-claim.ts): two reads per claim, two round trips on PostgreSQL. Here the
 * claims of a pipeline this process has not marked running wait for the first such claim's answer
 * (its read and its write): a waiting claim takes the row that the first claim's compare-and-set
 * to `running` returned (see FirstWrite), and reads only when there is none (the first claim wrote
 * nothing).
 *
 * Only the moment of a read moves, never what decides: the read still comes after the claim and
 * still decides whether anything is left to do, so a cancel or another coordinator's write is seen
 * as before. A waiting claim would have waited for the first one's write anyway (the processing
 * after a claim is serialised per pipeline). It may now also wait for what the first claim does
 * outside that lock: a child pipeline's parent processing, or the full processing of a job with
 * an environment. That delays the answer of such a claim, never its outcome; every ticket is
 * settled in the claim's `finally`, so no claim waits on one that threw or found no job.
 */
import type { PipelineRecord } from '../../store/store.js';

/**
 * The first claim's compare-and-set of the pipeline to `running`: the row as written. A waiting
 * claim takes that row instead of a read of its own. Its own claim was answered before it asked,
 * and a claim changes nothing in the pipeline (after-claim.ts), so whether the write came before
 * or after that claim the row is the state after it: what a read could add is only a later write
 * of another process (a cancel), which a read sent a moment earlier would miss as well, and which
 * reaches the job on its next update (`Job-Status`). (Before, a claim that asked after the write
 * was sent read the pipeline: under 1,000 clients on PostgreSQL with claims bounded in flight,
 * 0.27 of 0.43 reads per job.)
 */
export type FirstWrite = PipelineRecord;

/** Pipelines remembered as read `running` here; the bound only keeps the set small. */
const MAX_SEEN_RUNNING = 10_000;

/** The first claims in flight per pipeline, each settled once its answer's pipeline work ended. */
export class FirstClaims {
  readonly inFlight = new Map<number, Promise<FirstWrite | undefined>>();
  /** Tickets not done yet: the claims in progress in this process. */
  #open = 0;
  /** Pipelines a claim's read here saw `running` (marked by another process, say): no waiting. */
  readonly #seenRunning = new Set<number>();

  constructor(
    private readonly readFromStore: (pipelineId: number) => Promise<PipelineRecord | null>,
    private readonly markedRunning: (pipelineId: number) => boolean,
  ) {}

  /** A ticket for one claim; call `done()` once the claim's processing after the answer ended. */
  ticket(): ClaimTicket {
    this.#open += 1;
    return new ClaimTicket(this, () => {
      this.#open -= 1;
    });
  }

  /** Whether the asking claim is the only one in progress in this process. */
  alone(): boolean {
    return this.#open <= 1;
  }

  /** Whether claims of this pipeline read it at once (it is known to have been running). */
  knownRunning(pipelineId: number): boolean {
    return this.markedRunning(pipelineId) || this.#seenRunning.has(pipelineId);
  }

  async read(pipelineId: number): Promise<PipelineRecord | null> {
    const pipeline = await this.readFromStore(pipelineId);
    if (pipeline?.status === 'running' && !this.#seenRunning.has(pipelineId)) {
      if (this.#seenRunning.size >= MAX_SEEN_RUNNING) this.#seenRunning.clear();
      this.#seenRunning.add(pipelineId);
    }
    return pipeline;
  }
}

export class ClaimTicket {
  #release: ((written: FirstWrite | undefined) => void) | undefined;
  #written: FirstWrite | undefined;
  #closed = false;

  constructor(
    private readonly claims: FirstClaims,
    private readonly onDone: () => void = () => undefined,
  ) {}

  /**
   * Reads the pipeline; a pipeline not known running waits for the first claim in flight. The
   * first claim of a pipeline (none in flight, not known running) answers `readWithClaim`, the
   * row its claim's store call read with it, when there is one and no other claim is in progress
   * here: no claim of this process marked the pipeline running while that row was read (such a
   * claim is still in flight, or it marked the pipeline, which is then known running), so a read
   * now would see what it saw, up to another process's write, which the compare-and-set after the
   * claim catches as it would after a read (after-claim.ts). With other claims in progress it
   * reads as before: they may be claims of the same pipeline about to wait on this one, and the
   * longer its write takes to be sent, the more of them take the row it wrote instead of a read
   * (FirstWrite); answering at once made most of a 20-job pipeline's claims read on PostgreSQL
   * (0.66 pipeline reads per job instead of 0.11 under 1,000 clients).
   */
  async readPipeline(pipelineId: number, readWithClaim?: PipelineRecord): Promise<PipelineRecord | null> {
    const { claims } = this;
    if (claims.knownRunning(pipelineId)) return claims.read(pipelineId);
    const first = claims.inFlight.get(pipelineId);
    if (first !== undefined) {
      // Asked after this claim's own claim was answered: see FirstWrite.
      const written = await first;
      if (written !== undefined && written.id === pipelineId) return written;
      return claims.read(pipelineId);
    }
    const settled = new Promise<FirstWrite | undefined>((resolve) => {
      this.#release = (written) => {
        if (claims.inFlight.get(pipelineId) === settled) claims.inFlight.delete(pipelineId);
        resolve(written);
      };
    });
    claims.inFlight.set(pipelineId, settled);
    return readWithClaim?.id === pipelineId && claims.alone() ? readWithClaim : claims.read(pipelineId);
  }

  /** This claim's compare-and-set applied: `pipeline` as written. */
  wrote(pipeline: PipelineRecord): void {
    this.#written = pipeline;
  }

  /** The claim's work on its pipeline ended (or failed): claims waiting on it read now. */
  done(): void {
    this.#release?.(this.#written);
    this.#release = undefined;
    if (!this.#closed) this.onDone();
    this.#closed = true;
  }
}
