/**
 * A clock for providers tested against an emulator: the emulator stamps real times, so `now` is the
 * real time plus an offset the test moves forward (`skip`), and `sleep` returns at once while
 * recording what was asked (backoff and Retry-After are checked by value, never by waiting).
 */
import type { Clock } from '../../src/shared/clock.js';

export interface SkippingClock extends Clock {
  skip(ms: number): void;
  readonly sleeps: number[];
}

export function skippingClock(): SkippingClock {
  let offset = 0;
  const sleeps: number[] = [];
  return {
    now: () => new Date(Date.now() + offset),
    monotonic: () => performance.now() + offset,
    sleep: async (ms) => {
      sleeps.push(ms);
      await new Promise((r) => setImmediate(r));
    },
    skip(ms) {
      offset += ms;
    },
    sleeps,
  };
}
