/**
 * One pool of PostgreSQL connections shared by two lanes, where a waiting update always goes
 * before a waiting claim.
 *
 * Under a thousand runner clients, most of them ask for a job at any moment. Every job request is
 * a claim statement, and with one FIFO pool of 20 connections the claims filled its wait queue: a
 * trace PATCH or a job PUT of a running job queued behind hundreds of claims (p99 about a second),
 * though it is what finishes work and runners expect a job request, not an update, to wait.
 *
 * So the pool's connections are handed out by priority: `connect()` of the `update` lane (every
 * statement but the claim: updates, their follow-up reads, the REST API, the watchdog) is served
 * before any waiting `claim`. Nothing is throttled: with no update waiting, claims use every
 * connection, as before. Each lane is served in arrival order. A claim waits while updates wait;
 * under a steady stream of updates with every connection busy it waits until the stream thins,
 * and at most `waitMs`, as any statement does: then it fails as the pool's own wait did
 * ("timeout exceeded when trying to connect", answered 503 with Retry-After, unavailable.ts).
 *
 * The permits match the inner pool's `max`, so the inner `pg.Pool` never queues a request itself
 * (it only opens connections when none is idle), and its own connection timeout applies to
 * opening a connection only.
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';

export type PoolLane = 'update' | 'claim';

/** What the lanes need of a pg pool: `connect` whose client has `release(err?)`, and `end`. */
export interface InnerPool {
  connect(): Promise<PostgresPoolClient>;
  end(): Promise<void>;
}

/** Whether a checked-out client's connection was lost: it goes back destroyed, not to the idle set. */
export type BrokenCheck = (client: PostgresPoolClient) => boolean;

interface Waiter {
  start(): void;
  timer: NodeJS.Timeout;
}

export class LanePool {
  readonly #inner: InnerPool;
  readonly #waitMs: number;
  readonly #broken: BrokenCheck;
  #free: number;
  readonly #waiting: Record<PoolLane, Waiter[]> = { update: [], claim: [] };
  #ended: Promise<void> | undefined;

  /**
   * `size` must be the inner pool's `max`; a request waits `waitMs` at most for a connection. A
   * client that `broken` reports is released with `destroy`, so that the next statement does not
   * get a connection the server already closed (see dialect.ts).
   */
  constructor(inner: InnerPool, size: number, waitMs: number, broken: BrokenCheck = () => false) {
    this.#inner = inner;
    this.#free = Math.max(1, size);
    this.#waitMs = waitMs;
    this.#broken = broken;
  }

  /** A pool for kysely whose connections are taken in `lane`; `end` ends the shared pool. */
  lane(lane: PoolLane): PostgresPool {
    return { connect: () => this.connect(lane), end: () => this.end() };
  }

  /** Requests waiting for a connection in `lane`. */
  waiting(lane: PoolLane): number {
    return this.#waiting[lane].length;
  }

  async connect(lane: PoolLane): Promise<PostgresPoolClient> {
    await this.#permit(lane);
    let client: PostgresPoolClient;
    try {
      client = await this.#inner.connect();
    } catch (err) {
      this.#give();
      throw err;
    }
    const release = client.release.bind(client);
    let released = false;
    // pg-pool sets `release` on each checkout, so this wrapper lives for one checkout only.
    client.release = (destroy?: boolean | Error) => {
      if (released) return;
      released = true;
      try {
        release((destroy ?? false) || this.#broken(client) ? true : undefined);
      } finally {
        this.#give();
      }
    };
    return client;
  }

  end(): Promise<void> {
    this.#ended ??= this.#inner.end();
    return this.#ended;
  }

  #permit(lane: PoolLane): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const queue = this.#waiting[lane];
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const at = queue.indexOf(waiter);
          if (at >= 0) queue.splice(at, 1);
          reject(
            new Error(
              `timeout exceeded when trying to connect: no store connection was free within ${this.#waitMs} ms`,
            ),
          );
        }, this.#waitMs),
      };
      queue.push(waiter);
    });
  }

  /** A permit comes back: the oldest waiting update takes it, else the oldest claim. */
  #give(): void {
    const next = this.#waiting.update.shift() ?? this.#waiting.claim.shift();
    if (next === undefined) this.#free++;
    else next.start();
  }
}
