/**
 * Updates of running jobs before new work. A job request's claim (the compare-and-set, the
 * payload, the pipeline's move) is the heaviest thing a runner asks for, and on SQLite all of it
 * runs synchronously on the event loop: when a thousand runners ask at once, every trace PATCH and
 * job PUT that arrives meanwhile waits behind the claims read before it, and a running job's log
 * and completion are delayed by work that only hands out more jobs. GitLab keeps the two apart too
 * (job requests are long polls that runners expect to wait; updates are not).
 *
 * So on SQLite a job request does not claim when it is read (but for one per turn when none
 * waits): it takes a place in this gate, which starts claims only from a `setImmediate` callback
 * (libuv's check phase, after the poll phase has run the handlers of every request that had
 * arrived, updates included), at most `perTurn` of them per turn of the event loop and at most
 * `inFlight` at once. Claims start in arrival order.
 *
 * On PostgreSQL a claim's work is mostly the server's, and the store already lets every other
 * statement go first for its connections (postgres/lane-pool.ts): the gate is `bounded`, with no
 * turns, and only keeps the claims in flight to the pool's size (see `bounded`).
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
  /**
   * A claim starts when asked for while fewer than `inFlight` run, else as soon as one is
   * released: no turn of the event loop is waited for (`perTurn` does not apply). With
   * `inFlight` unbounded the gate only counts claims.
   */
  atOnce?: boolean;
}

/** Claims started per turn of the event loop: a few milliseconds of claim work between two polls. */
export const CLAIMS_PER_TURN = 4;
/** Claims in flight at once in the turn-based gate (SQLite: each ends within its turn anyway). */
export const CLAIMS_IN_FLIGHT = 4;

/**
 * Claims in flight at once in a bounded gate (PostgreSQL): the store's default pool size, so that
 * the claims that wait, wait here (see `bounded`) and the pool's wait queue holds updates.
 */
export const BOUNDED_CLAIMS_IN_FLIGHT = 20;

const STARTED = (): void => undefined;

export class ClaimGate {
  readonly #perTurn: number;
  readonly #inFlight: number;
  readonly #schedule: (turn: () => void) => void;
  readonly #atOnce: boolean;
  #waiting: (() => void)[] = [];
  #head = 0;
  #running = 0;
  #scheduled = false;
  /** A claim started at once in this turn (see enter). */
  #startedAtOnce = false;

  constructor(options: ClaimGateOptions = { perTurn: CLAIMS_PER_TURN, inFlight: CLAIMS_IN_FLIGHT }) {
    this.#perTurn = Math.max(1, options.perTurn);
    this.#inFlight = Math.max(1, options.inFlight);
    this.#schedule = options.schedule ?? ((turn) => void setImmediate(turn));
    this.#atOnce = options.atOnce ?? false;
  }

  /**
   * A gate that starts claims at once up to `inFlight` running, and holds the others until one
   * ends. PostgreSQL: the store lets updates go first for its connections (postgres/lane-pool.ts),
   * so claims need no turn of their own; the bound keeps the claims that wait here rather than in
   * the pool, where a request that lost its client or whose runner's kind found nothing meanwhile
   * is answered without running its claim (runner-api-routes.ts checks again once it enters).
   */
  static bounded(inFlight: number): ClaimGate {
    return new ClaimGate({ perTurn: Number.MAX_SAFE_INTEGER, inFlight, atOnce: true });
  }

  /** Claims that may hold a place at once. */
  get bound(): number {
    return this.#inFlight;
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
   * Resolves with a release once this claim may start. When no claim waits, the first claim asked
   * for in a turn of the event loop starts at once, as before the gate (a lone runner's pickup waits
   * for no turn); the others wait for a later turn (the updates read meanwhile go first). On SQLite
   * a claim ends within the callback that started it, so "nothing running" would let every claim
   * of a burst through: one per turn is the bound. Release it once the claim ended, whatever its
   * outcome.
   */
  enter(): Promise<ClaimRelease> {
    if (this.#atOnce) {
      if (this.waiting === 0 && this.#running < this.#inFlight) return Promise.resolve(this.#place());
      return new Promise<ClaimRelease>((resolve) => this.#waiting.push(() => resolve(this.#place())));
    }
    if (!this.#startedAtOnce && this.waiting === 0 && this.#running < this.#inFlight) {
      this.#startedAtOnce = true;
      const release = this.#place();
      // The next turn allows the next claim at once.
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#schedule(() => this.#turn());
      }
      return Promise.resolve(release);
    }
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
      if (this.#atOnce) this.#startNext();
      else this.#plan();
    };
  }

  /** Bounded gate (`atOnce`): the oldest waiting claim takes the place just released. */
  #startNext(): void {
    if (this.waiting === 0 || this.#running >= this.#inFlight) return;
    const start = this.#waiting[this.#head];
    this.#waiting[this.#head++] = STARTED;
    this.#compact();
    start?.();
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  }

  #plan(): void {
    if (this.#scheduled || this.waiting === 0 || this.#running >= this.#inFlight) return;
    this.#scheduled = true;
    this.#schedule(() => this.#turn());
  }

  #turn(): void {
    this.#scheduled = false;
    this.#startedAtOnce = false;
    let started = 0;
    while (started < this.#perTurn && this.#running < this.#inFlight && this.waiting > 0) {
      const start = this.#waiting[this.#head];
      this.#waiting[this.#head++] = STARTED;
      started++;
      start?.();
    }
    this.#compact();
    this.#plan();
  }
}
