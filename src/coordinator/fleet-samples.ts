/**
 * The coordinator's own history of its queue and fleet for the web UI's charts: every
 * `intervalMs` one sample (pending jobs, the oldest pending job's wait, the machines the runner
 * managers report), kept in a ring of `capacity` samples in memory (6 hours at 15 s). Each replica
 * keeps its own ring; a restart starts it again.
 */
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

export interface FleetSample {
  at: string;
  pending: number;
  oldest_wait_seconds: number;
  machines: number;
}

export interface FleetSamplerOptions {
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  capacity?: number;
  take(): Promise<Omit<FleetSample, 'at'>>;
}

export interface FleetSampler {
  readonly intervalMs: number;
  /** Oldest first. */
  samples(): FleetSample[];
  /** Takes one sample now (also what the timer does). */
  sample(): Promise<void>;
  start(): void;
  stop(): void;
}

export const FLEET_SAMPLE_INTERVAL_MS = 15_000;
export const FLEET_SAMPLE_CAPACITY = 6 * 240;

export function createFleetSampler(o: FleetSamplerOptions): FleetSampler {
  const intervalMs = o.intervalMs ?? FLEET_SAMPLE_INTERVAL_MS;
  const capacity = o.capacity ?? FLEET_SAMPLE_CAPACITY;
  const ring: FleetSample[] = [];
  let timer: NodeJS.Timeout | null = null;

  async function sample(): Promise<void> {
    try {
      const values = await o.take();
      ring.push({ at: o.clock.now().toISOString(), ...values });
      if (ring.length > capacity) ring.splice(0, ring.length - capacity);
    } catch (err) {
      o.logger.debug({ err: errorMessage(err) }, 'fleet sample failed');
    }
  }

  return {
    intervalMs,
    samples: () => [...ring],
    sample,
    start() {
      if (timer) return;
      void sample();
      timer = setInterval(() => void sample(), intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
