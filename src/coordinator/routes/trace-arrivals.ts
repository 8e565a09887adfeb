/**
 * The trace PATCHes of each job that this process is receiving or storing, so that one that
 * arrives ahead of its predecessor is stored after it instead of being refused.
 *
 * A Flotilla runner keeps two PATCHes of a job in flight (`HEADER_TRACE_PATCHES_IN_FLIGHT`): the
 * next chunk travels while the coordinator writes and syncs the previous one. Each is registered
 * here when its headers arrive (before its body), and a PATCH whose range starts where a
 * registered one ends waits until that one is answered, then appends at the size it left. A PATCH
 * with no registered predecessor is never held: a real gap (a runner ahead of a server that lost
 * data, a predecessor sent to another replica) is answered 416 at once, as before.
 */

/** The longest a PATCH waits for its predecessor, whatever happens to that one. */
export const PREDECESSOR_WAIT_MS = 10_000;

interface Arrival {
  readonly start: number;
  readonly end: number;
  readonly done: Promise<void>;
}

export interface TraceArrivals {
  /** Registers a PATCH of bytes [start, end); the returned function ends it (idempotent). */
  begin(jobId: number, start: number, end: number): () => void;
  /** Resolves when no PATCH registered before this one still ends at `start` (bounded wait). */
  predecessor(jobId: number, start: number, self: () => void): Promise<void>;
}

/** How a PATCH waits: `sleep` of the coordinator's clock (it rejects when the signal aborts). */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

async function waitFor(done: Promise<void>, sleep: Sleep): Promise<void> {
  const timer = new AbortController();
  try {
    await Promise.race([done, sleep(PREDECESSOR_WAIT_MS, timer.signal).catch(() => undefined)]);
  } finally {
    timer.abort();
  }
}

export function createTraceArrivals(sleep: Sleep): TraceArrivals {
  const byJob = new Map<number, Map<() => void, Arrival>>();
  return {
    begin(jobId, start, end) {
      let resolve = (): void => undefined;
      const done = new Promise<void>((r) => (resolve = r));
      const arrivals = byJob.get(jobId) ?? new Map<() => void, Arrival>();
      byJob.set(jobId, arrivals);
      const finish = (): void => {
        if (!arrivals.delete(finish)) return;
        if (arrivals.size === 0 && byJob.get(jobId) === arrivals) byJob.delete(jobId);
        resolve();
      };
      arrivals.set(finish, { start, end, done });
      return finish;
    },
    async predecessor(jobId, start, self) {
      const arrivals = byJob.get(jobId);
      if (arrivals === undefined) return;
      // Only those registered before `self` (a Map keeps insertion order).
      for (const [key, arrival] of arrivals) {
        if (key === self) return;
        if (arrival.end === start && arrival.start < start) {
          return waitFor(arrival.done, sleep);
        }
      }
    },
  };
}
