/**
 * Job slots: `concurrent` across all runner entries, `limit` per entry, and the lowest free
 * CI_CONCURRENT_ID per entry. A slot is taken before a job request (like gitlab-runner's
 * acquireBuild) and released when the request brings nothing or the job ends. When a request
 * brings a job, its id becomes the lowest one free at that moment (`settle`), as gitlab-runner
 * numbers a build when it is added to the running ones: a slot freed while the request was in
 * flight is taken again, so is its builds folder.
 */

export interface SlotOwner {
  /** Jobs running or being requested for this entry. */
  used: Set<number>;
}

export interface Slots {
  /** Returns the concurrent id, or null when `concurrent` or `limit` is reached. */
  acquire(owner: SlotOwner, limit: number): number | null;
  release(owner: SlotOwner, id: number): void;
  /**
   * For a job received on slot `id`: the lowest id not in use by the owner's other jobs and
   * requests (`id` itself when none is lower), which then replaces `id`.
   */
  settle(owner: SlotOwner, id: number): number;
  setConcurrent(concurrent: number): void;
  readonly inUse: number;
  /** Resolves at the next release (or rejects when `signal` aborts). */
  waitForRelease(signal: AbortSignal): Promise<void>;
}

export function createSlots(concurrent: number): Slots {
  let max = concurrent;
  let inUse = 0;
  let waiters: (() => void)[] = [];
  function wake(): void {
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  }
  return {
    acquire(owner, limit) {
      if (inUse >= max || (limit > 0 && owner.used.size >= limit)) return null;
      let id = 0;
      while (owner.used.has(id)) id++;
      owner.used.add(id);
      inUse++;
      return id;
    },
    release(owner, id) {
      if (owner.used.delete(id)) inUse--;
      wake();
    },
    settle(owner, id) {
      let lowest = 0;
      while (lowest < id && owner.used.has(lowest)) lowest++;
      if (lowest >= id || !owner.used.has(id)) return id;
      owner.used.delete(id);
      owner.used.add(lowest);
      return lowest;
    },
    setConcurrent(concurrent) {
      max = concurrent;
      wake();
    },
    get inUse() {
      return inUse;
    },
    waitForRelease(signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = (): void => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        waiters.push(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    },
  };
}
