/**
 * The history of the queue and fleet for the web UI's charts: every `intervalMs` one sample
 * (pending jobs, the oldest pending job's wait, the machines the runner managers report), kept in
 * the store for `retentionMs` (6 hours at 15 s). Samples are keyed by their slot (time ÷ interval),
 * one per slot: coordinators on one database all sample, the first of each slot is kept, and every
 * replica shows the same history, which outlives a restart.
 */
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { FleetStore } from './store/port/runners.js';

export interface FleetSample {
  at: string;
  pending: number;
  oldest_wait_seconds: number;
  machines: number;
}

export interface FleetSamplerOptions {
  clock: Clock;
  logger: Logger;
  store: Pick<FleetStore, 'addFleetSample' | 'listFleetSamples'>;
  intervalMs?: number;
  retentionMs?: number;
  take(): Promise<Omit<FleetSample, 'at'>>;
}

export interface FleetSampler {
  readonly intervalMs: number;
  /** The samples of the retention window, oldest first. */
  samples(): Promise<FleetSample[]>;
  /** Takes one sample now (also what the timer does). */
  sample(): Promise<void>;
  start(): void;
  stop(): void;
}

export const FLEET_SAMPLE_INTERVAL_MS = 15_000;
export const FLEET_SAMPLE_RETENTION_MS = 6 * 3600 * 1000;

export function createFleetSampler(o: FleetSamplerOptions): FleetSampler {
  const intervalMs = o.intervalMs ?? FLEET_SAMPLE_INTERVAL_MS;
  const slots = Math.max(1, Math.round((o.retentionMs ?? FLEET_SAMPLE_RETENTION_MS) / intervalMs));
  const slotOf = (at: Date): number => Math.floor(at.getTime() / intervalMs);
  let timer: NodeJS.Timeout | null = null;

  async function sample(): Promise<void> {
    try {
      const values = await o.take();
      const at = o.clock.now();
      const slot = slotOf(at);
      await o.store.addFleetSample(
        {
          slot,
          at,
          pending: values.pending,
          oldestWaitSeconds: values.oldest_wait_seconds,
          machines: values.machines,
        },
        slot - slots + 1,
      );
    } catch (err) {
      o.logger.debug({ err: errorMessage(err) }, 'fleet sample failed');
    }
  }

  return {
    intervalMs,
    async samples() {
      const rows = await o.store.listFleetSamples(slotOf(o.clock.now()) - slots + 1);
      return rows.map((r) => ({
        at: r.at.toISOString(),
        pending: r.pending,
        oldest_wait_seconds: r.oldestWaitSeconds,
        machines: r.machines,
      }));
    },
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
