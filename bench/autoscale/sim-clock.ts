/**
 * A simulated Clock (the project's `Clock` port) for the autoscaling simulation: time stands still
 * until the discrete-event loop calls `advance`; sleeps resolve when their due time is passed.
 * It starts at a midnight UTC, so the workload's "seconds since midnight" and cron periods line up.
 */
import type { Clock } from '../../src/shared/clock.js';

export interface SimClock extends Clock {
  advance(ms: number): void;
  /** Simulated seconds since the start (midnight). */
  seconds(): number;
}

export const SIM_DAY_START = Date.UTC(2026, 0, 5); // a Monday

/** `elapsedMs` < 0 starts before `startMs` (a warm-up day before the measured one). */
export function createSimClock(startMs = SIM_DAY_START, elapsedMs = 0): SimClock {
  let elapsed = elapsedMs;
  let sleepers: { due: number; resolve(): void }[] = [];
  return {
    now: () => new Date(startMs + elapsed),
    monotonic: () => elapsed,
    seconds: () => elapsed / 1000,
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const sleeper = { due: elapsed + ms, resolve };
        sleepers.push(sleeper);
        signal?.addEventListener(
          'abort',
          () => {
            sleepers = sleepers.filter((s) => s !== sleeper);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
    advance(ms) {
      elapsed += ms;
      const due = sleepers.filter((s) => s.due <= elapsed);
      if (due.length === 0) return;
      sleepers = sleepers.filter((s) => s.due > elapsed);
      for (const s of due) s.resolve();
    },
  };
}
