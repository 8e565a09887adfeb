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
 * statement but the claim) is served before any waiting `claim`. Nothing is throttled: with no
 * update waiting, claims use every connection, as before. An update waits at most for the next
 * connection released. Claims wait among themselves in arrival order, and cannot starve: updates
 * come from running jobs only, and each job sends a bounded few.
 *
 * The permits match the inner pool's `max`, so the inner `pg.Pool` never queues a request itself
 * (it only opens connections when none is idle).
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';

export type PoolLane = 'update' | 'claim';

/** What the lanes need of a pg pool: `connect` whose client has `release(err?)`, and `end`. */
export interface InnerPool {
  connect(): Promise<PostgresPoolClient>;
  end(): Promise<void>;
}

export class LanePool {
  readonly #inner: InnerPool;
  #free: number;
  readonly #waiting: Record<PoolLane, (() => void)[]> = { update: [], claim: [] };
  #ended: Promise<void> | undefined;

  /** `size` must be the inner pool's `max`. */
  constructor(inner: InnerPool, size: number) {
    this.#inner = inner;
    this.#free = Math.max(1, size);
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
      release(destroy as boolean | undefined);
      this.#give();
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
    return new Promise<void>((resolve) => this.#waiting[lane].push(resolve));
  }

  /** A permit comes back: the oldest waiting update takes it, else the oldest claim. */
  #give(): void {
    const next = this.#waiting.update.shift() ?? this.#waiting.claim.shift();
    if (next === undefined) this.#free++;
    else next();
  }
}
