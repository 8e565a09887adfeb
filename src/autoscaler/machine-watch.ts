/**
 * The liveness watch of a machine while a job's stage runs on it. A job's Docker connections to a
 * machine that dies may never learn it (a machine powered off or cut off sends no FIN or RST), so
 * the stage is not trusted to fail by itself: every `intervalMs` the machine's engine is pinged
 * (at most `timeoutMs`); after `failures` pings in a row without an answer, or once the taskscaler
 * finds the machine gone (`lease.lost`), the stage's signal is aborted and the stage rejects at once
 * with a `MachineLostError`, whatever the stage's own requests are still waiting for.
 */
import type { Clock } from '../shared/clock.js';
import { errorMessage, FlotillaError } from '../shared/errors.js';
import type { ConnectInfo } from './providers/provider.js';
import type { Lease } from './taskscaler.js';

/** The machine a job ran on stopped answering (or its provider reports it gone). */
export class MachineLostError extends FlotillaError {
  readonly machine: string;
  /** Why, without the machine (for messages that name it already). */
  readonly reason: string;
  constructor(machine: string, reason: string) {
    super('FLO_ERR_MACHINE_LOST', `machine ${machine} was lost: ${reason}`, { details: { machine } });
    this.name = 'MachineLostError';
    this.machine = machine;
    this.reason = reason;
  }
}

export interface LivenessOptions {
  clock: Clock;
  /** Resolves when the machine's engine answers within `timeoutMs`. */
  ping(connect: ConnectInfo, timeoutMs: number): Promise<void>;
  intervalMs: number;
  timeoutMs: number;
  /** Pings in a row without an answer that make the machine lost. */
  failures: number;
}

export const DEFAULT_LIVENESS = { intervalMs: 5000, timeoutMs: 5000, failures: 3 } as const;

async function watch(o: LivenessOptions, lease: Lease, stop: AbortSignal): Promise<MachineLostError | null> {
  let misses = 0;
  for (;;) {
    try {
      await o.clock.sleep(o.intervalMs, stop);
    } catch {
      return null;
    }
    if (lease.lost) return new MachineLostError(lease.connect.id, 'the provider reports it gone');
    try {
      await o.ping(lease.connect, o.timeoutMs);
      misses = 0;
    } catch (err) {
      misses++;
      if (stop.aborted) return null;
      if (misses >= o.failures)
        return new MachineLostError(
          lease.connect.id,
          `its Docker Engine did not answer ${misses} pings in a row (${errorMessage(err)})`,
        );
    }
  }
}

/**
 * Runs `work` with a signal that is aborted when `outer` is, or when the machine is lost; in the
 * latter case rejects with the `MachineLostError` at once (the work is aborted, not awaited).
 */
export async function whileAlive<T>(
  o: LivenessOptions,
  lease: Lease,
  outer: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const stop = new AbortController();
  const lost = new AbortController();
  const watching = watch(o, lease, stop.signal).then((err) => {
    if (err) lost.abort(err);
    return err;
  });
  const gone = watching.then((err) => (err ? Promise.reject(err) : new Promise<never>(() => undefined)));
  try {
    return await Promise.race([work(AbortSignal.any([outer, lost.signal])), gone]);
  } catch (err) {
    // The work may reject first (with its own words for the abort): the machine is what was lost.
    if (lost.signal.aborted && !outer.aborted) throw lost.signal.reason;
    throw err;
  } finally {
    stop.abort();
  }
}
