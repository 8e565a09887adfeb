/**
 * Updates of running jobs before new work. A job request's claim (the compare-and-set, the
 * payload, the pipeline's move) is the heaviest thing a runner asks for, and on SQLite all of it
 * runs synchronously on the event loop: when a thousand runners ask at once, every trace PATCH and
 * job PUT that arrives meanwhile waits behind the claims read before it, and a running job's log
 * and completion are delayed by work that only hands out more jobs. GitLab keeps the two apart too
 * (job requests are long polls that runners expect to wait; updates are not).
 *
 * So a job request does not claim when it is read (unless the gate is idle): it takes a place in
 * this gate, which starts claims only from a `setImmediate` callback (libuv's check phase, after the poll phase has run the
 * handlers of every request that had arrived, updates included), at most `perTurn` of them per
 * turn of the event loop and at most `inFlight` at once (on PostgreSQL a claim's queries then
 * leave most of the pool's connections to the updates instead of queueing ahead of them). Claims
 * start in arrival order.
 *
 * Only the moment a claim starts moves, never what it does: the claim is the same compare-and-set,
 * and a request answered with a job is answered with the job its claim took. Every place is
 * released by its holder (in a `finally`), so a claim that fails does not hold the others.
 */

/** Gives back a place in the gate; calling it again does nothing. */
export type ClaimRelease = () => void;

export interface ClaimGateOptions {
  /** Claims started per turn of the event loop at most. */
  perTurn: number;
  /** Claims started and not yet released at most. */
  inFlight: number;
  /** Runs the gate's next turn; `setImmediate` unless a test drives the turns itself. */
  schedule?: (turn: () => void) => void;
}

/** Claims started per turn of the event loop: a few milliseconds of claim work between two polls. */
export const CLAIMS_PER_TURN = 4;
/** Claims in flight at once (see above): a fifth of PostgreSQL's default pool of 20. */
export const CLAIMS_IN_FLIGHT = 4;

const STARTED = (): void => undefined;

export class ClaimGate {
  readonly #perTurn: number;
  readonly #inFlight: number;
  readonly #schedule: (turn: () => void) => void;
  #waiting: (() => void)[] = [];
  #head = 0;
  #running = 0;
  #scheduled = false;

  constructor(options: ClaimGateOptions = { perTurn: CLAIMS_PER_TURN, inFlight: CLAIMS_IN_FLIGHT }) {
    this.#perTurn = Math.max(1, options.perTurn);
    this.#inFlight = Math.max(1, options.inFlight);
    this.#schedule = options.schedule ?? ((turn) => void setImmediate(turn));
  }

  /** Claims waiting for a place. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /** Claims holding a place. */
  get running(): number {
    return this.#running;
  }

  /**
   * Resolves with a release once this claim may start. An idle gate (no claim waiting or running)
   * starts it at once, as before the gate: a lone runner's pickup does not wait for a turn, and a
   * burst gets one claim ahead of the updates at most. Otherwise the claim waits for a later turn
   * (the updates read meanwhile go first). Release it once the claim ended, whatever its outcome.
   */
  enter(): Promise<ClaimRelease> {
    if (this.#running === 0 && this.waiting === 0) return Promise.resolve(this.#place());
    return new Promise<ClaimRelease>((resolve) => {
      this.#waiting.push(() => resolve(this.#place()));
      this.#plan();
    });
  }

  #place(): ClaimRelease {
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#plan();
    };
  }

  #plan(): void {
    if (this.#scheduled || this.waiting === 0 || this.#running >= this.#inFlight) return;
    this.#scheduled = true;
    this.#schedule(() => this.#turn());
  }

  #turn(): void {
    this.#scheduled = false;
    let started = 0;
    while (started < this.#perTurn && this.#running < this.#inFlight && this.waiting > 0) {
      const start = this.#waiting[this.#head];
      this.#waiting[this.#head++] = STARTED;
      started++;
      start?.();
    }
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    this.#plan();
  }
}
