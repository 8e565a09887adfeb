/**
 * Long-poll support for POST /jobs/request. Each runner has a queue version (the value of
 * `X-GitLab-Last-Update`); it changes whenever a job the runner may take becomes pending. A request
 * whose `last_update` equals the current version waits here until the version changes, the poll
 * window ends, or the client goes away.
 *
 * Several coordinators on one database share the queue through a `QueueBus` (PostgreSQL
 * LISTEN/NOTIFY): what one coordinator queues wakes the runners held by the others.
 */
import { randomBytes } from 'node:crypto';

import type { CacheMessage } from '../../store/caching-store.js';

export interface QueueMatch {
  tagList: string[];
  runUntagged: boolean;
  accessLevel: 'not_protected' | 'ref_protected';
}

export interface QueuedJobInfo {
  tagList: string[];
  protected: boolean;
}

interface Waiter {
  wake: () => void;
}

/** What one coordinator tells the others: jobs became pending, or one runner's version changed. */
export type QueueMessage =
  | { kind: 'jobs'; jobs: QueuedJobInfo[] }
  | { kind: 'runner'; runnerId: number }
  /** Too much to say in one message: every known runner's version changes. */
  | { kind: 'all' }
  /** Not the queue's: a cached row changed (the store's caches listen on the same channel). */
  | CacheMessage;

/** Carries queue messages between the coordinators of one database. */
export interface QueueBus {
  publish(message: QueueMessage): void;
  subscribe(handler: (message: QueueMessage) => void): void;
}

/** Never part of a version that `version()` returns. */
const CLAIMED_SUFFIX = '-more';

export function jobMatchesRunner(job: QueuedJobInfo, runner: QueueMatch): boolean {
  if (runner.accessLevel === 'ref_protected' && !job.protected) return false;
  if (job.tagList.length === 0) return runner.runUntagged;
  return job.tagList.every((t) => runner.tagList.includes(t));
}

/** What a claim matches on, as one key: runners with the same key may take the same jobs. */
function matchKey(match: QueueMatch): string {
  const tags = [...new Set(match.tagList)].sort();
  return JSON.stringify([match.accessLevel, match.runUntagged, tags]);
}

/**
 * How long a claim that found nothing answers for the runner's other requests at the same version
 * (and for other runners with the same settings). Short, so that a request arriving later claims
 * again. It does not bound what a lost bus notification (another coordinator queued a job) costs:
 * the 204 carries the current version, so the runner's next long poll is held until the version
 * changes or its poll window ends. The bus limits that: once it listens again after a lost
 * connection it delivers `{ kind: 'all' }` locally (every version changes; queue-bus.ts).
 */
export const EMPTY_FOR_MS = 2000;

export class RunnerQueue {
  readonly #boot = randomBytes(4).toString('hex');
  readonly #versions = new Map<number, number>();
  readonly #runners = new Map<number, QueueMatch>();
  readonly #waiters = new Map<number, Set<Waiter>>();
  /** Shut down (`wakeAll`): a request that comes to wait afterwards is answered at once. */
  #shutDown = false;
  /** Runners whose claim found nothing at this version, and when. */
  readonly #empty = new Map<number, { version: string; at: number }>();
  /**
   * Changes whenever any runner's version does and whenever jobs are queued (here or, through the
   * bus, elsewhere): nothing became claimable while it stayed the same.
   */
  #epoch = 0;
  /** What runners may take (see matchKey) for which a claim found nothing at this epoch, and when. */
  readonly #emptyMatches = new Map<string, { epoch: number; at: number }>();
  readonly #bus: QueueBus | undefined;
  readonly #now: () => number;

  constructor(bus?: QueueBus, now: () => number = () => performance.now()) {
    this.#bus = bus;
    this.#now = now;
    bus?.subscribe((message) => this.#apply(message));
  }

  /** A message from another coordinator: applied here, not published again. */
  #apply(message: QueueMessage): void {
    if (message.kind === 'jobs') this.#jobsQueuedHere(message.jobs);
    else if (message.kind === 'runner') this.#bumpHere(message.runnerId);
    else if (message.kind === 'cache') return;
    else for (const runnerId of [...this.#runners.keys()]) this.#bumpHere(runnerId);
  }

  #jobsQueuedHere(jobs: QueuedJobInfo[]): void {
    if (jobs.length > 0) this.#epoch++;
    for (const [runnerId, match] of this.#runners) {
      if (jobs.some((j) => jobMatchesRunner(j, match))) this.#bumpHere(runnerId);
    }
  }

  #bumpHere(runnerId: number): void {
    this.#epoch++;
    this.#versions.set(runnerId, (this.#versions.get(runnerId) ?? 0) + 1);
    const set = this.#waiters.get(runnerId);
    if (!set) return;
    this.#waiters.delete(runnerId);
    for (const w of set) w.wake();
  }

  /** The runner's current version; also records what it may take, for later wake-ups. */
  version(runnerId: number, match: QueueMatch): string {
    this.#runners.set(runnerId, match);
    return this.#current(runnerId);
  }

  #current(runnerId: number): string {
    return `${this.#boot}-${this.#versions.get(runnerId) ?? 0}`;
  }

  /** What to read before a claim: the runner's version and the queue's epoch (see foundNothing). */
  beforeClaim(runnerId: number, match: QueueMatch): { version: string; epoch: number } {
    return { version: this.version(runnerId, match), epoch: this.#epoch };
  }

  /**
   * A claim for this runner found nothing; `before` was read before it. Other runners that may take
   * exactly what this one may (the claim matches on nothing else) would find nothing too, until
   * the epoch changes: after a job is queued, the many runners it wakes cost one empty claim per
   * kind of runner instead of one each.
   */
  foundNothing(runnerId: number, before: { version: string; epoch: number }, match?: QueueMatch): void {
    const at = this.#now();
    if (before.version === this.#current(runnerId))
      this.#empty.set(runnerId, { version: before.version, at });
    if (match !== undefined && before.epoch === this.#epoch) {
      if (this.#emptyMatches.size >= 1000) this.#emptyMatches.clear();
      this.#emptyMatches.set(matchKey(match), { epoch: before.epoch, at });
    }
  }

  /**
   * True when a claim of this runner found nothing at its current version, shortly ago: no job it
   * may take has been queued since (that changes the version), so another claim would find
   * nothing too. The runner's many clients then cost one empty claim per version, not one each.
   */
  knownEmpty(runnerId: number, match?: QueueMatch): boolean {
    const mark = this.#empty.get(runnerId);
    if (mark !== undefined) {
      if (mark.version === this.#current(runnerId) && this.#now() - mark.at < EMPTY_FOR_MS) return true;
      this.#empty.delete(runnerId);
    }
    if (match === undefined) return false;
    const key = matchKey(match);
    const shared = this.#emptyMatches.get(key);
    if (shared === undefined) return false;
    if (shared.epoch === this.#epoch && this.#now() - shared.at < EMPTY_FOR_MS) return true;
    this.#emptyMatches.delete(key);
    return false;
  }

  /** Number of requests currently held. */
  get waiting(): number {
    let n = 0;
    for (const set of this.#waiters.values()) n += set.size;
    return n;
  }

  /** Bumps the version of every known runner that may take one of these jobs, and wakes it. */
  jobsQueued(jobs: QueuedJobInfo[]): void {
    if (jobs.length === 0) return;
    this.#jobsQueuedHere(jobs);
    this.#bus?.publish({
      kind: 'jobs',
      jobs: jobs.map((j) => ({ tagList: j.tagList, protected: j.protected })),
    });
  }

  /** Changes a runner's version (tags or pause state changed, or a job for it was queued). */
  bump(runnerId: number): void {
    this.#bumpHere(runnerId);
    this.#bus?.publish({ kind: 'runner', runnerId });
  }

  /**
   * The version to answer a request that took a job with: never current, so the runner's next
   * request looks for another job at once instead of being held, and nobody else is woken.
   */
  afterClaim(version: string): string {
    return `${version}${CLAIMED_SUFFIX}`;
  }

  /**
   * Wakes one held request of this runner without changing its version (a safety net after a
   * claim: a request held because its claim lost a race to this one looks again). Waking all of
   * them would send every held client of a shared token to the store for each job taken.
   */
  wakeOne(runnerId: number): void {
    // A claim succeeded: whatever an earlier empty claim said (a lost race) no longer holds.
    this.#empty.delete(runnerId);
    this.#emptyMatches.clear();
    const set = this.#waiters.get(runnerId);
    const first = set?.values().next();
    if (first && first.done !== true) first.value.wake();
  }

  forget(runnerId: number): void {
    this.bump(runnerId);
    this.#runners.delete(runnerId);
    this.#versions.delete(runnerId);
    this.#empty.delete(runnerId);
  }

  /**
   * Waits until the runner's version changes (resolves true), `timeoutMs` passes or `signal`
   * aborts (resolves false).
   */
  wait(runnerId: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(runnerId);
      if (!set) {
        set = new Set();
        this.#waiters.set(runnerId, set);
      }
      const waiters = set;
      const done = (woken: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        waiters.delete(waiter);
        resolve(woken);
      };
      const waiter: Waiter = { wake: () => done(true) };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      if (signal.aborted || this.#shutDown) {
        done(false);
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      waiters.add(waiter);
    });
  }

  /**
   * Wakes every held request of this coordinator and holds no later one (shutdown: a request that
   * reaches its wait while the server closes would otherwise keep the close waiting a whole poll).
   */
  wakeAll(): void {
    this.#shutDown = true;
    for (const runnerId of [...this.#waiters.keys()]) this.#bumpHere(runnerId);
  }
}
