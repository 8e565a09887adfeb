/** A job's slot on a machine, as the taskscaler hands it out. */
import type { Machine } from './machines.js';
import type { ConnectInfo } from './providers/provider.js';

export interface Lease {
  readonly key: string;
  readonly connect: ConnectInfo;
  /** True once the machine was found dead or is being removed. */
  readonly lost: boolean;
  /** The job passed prepare and runs on the machine. */
  started(): void;
  /** Gives the slot back; `broken` removes the machine. Idempotent. */
  release(options?: { broken?: boolean }): void;
}

export interface LeaseHost {
  /** Whether `m` is still the fleet's machine under its key. */
  current(m: Machine): boolean;
  nowMs(): number;
  /** Once per lease, after the machine's counters were given back; `heldMs` since it was made. */
  released(m: Machine, broken: boolean, heldMs: number): void;
}

/** A lease on `m` (its slot already counted in `m.busy`); `connect` is set by the caller. */
export function machineLease(m: Machine, host: LeaseHost, job?: string): Lease {
  let released = false;
  if (job !== undefined) m.jobs.push(job);
  let started = false;
  const since = host.nowMs();
  return {
    key: m.key,
    connect: undefined as unknown as ConnectInfo,
    get lost() {
      return m.lost || !host.current(m);
    },
    started() {
      if (!started && !released) m.started++;
      started = true;
    },
    release(options = {}) {
      if (released) return;
      released = true;
      m.busy--;
      if (job !== undefined && m.jobs.includes(job)) m.jobs.splice(m.jobs.indexOf(job), 1);
      if (started) m.started--;
      m.idleSinceMs = host.nowMs();
      host.released(m, options.broken === true, host.nowMs() - since);
    },
  };
}
