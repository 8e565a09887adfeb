/** A manually driven Clock for tests: sleeps resolve only when `advance` passes their due time. */
import type { Clock } from '../../src/shared/clock.js';

interface Sleeper {
  due: number;
  resolve(): void;
}

export interface FakeClock extends Clock {
  advance(ms: number): void;
  /** Durations requested from `sleep`, in call order. */
  readonly sleeps: number[];
  /** Resolves once at least `count` sleeps are pending. */
  waitForSleepers(count?: number): Promise<void>;
  readonly pending: number;
}

export function createFakeClock(startMs = 1_700_000_000_000): FakeClock {
  let now = 0;
  const sleepers: Sleeper[] = [];
  const sleeps: number[] = [];
  let watchers: (() => void)[] = [];
  const notify = (): void => {
    const w = watchers;
    watchers = [];
    w.forEach((f) => f());
  };
  return {
    now: () => new Date(startMs + now),
    monotonic: () => now,
    sleeps,
    get pending() {
      return sleepers.length;
    },
    sleep(ms, signal) {
      sleeps.push(ms);
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const sleeper: Sleeper = { due: now + ms, resolve };
        sleepers.push(sleeper);
        signal?.addEventListener(
          'abort',
          () => {
            sleepers.splice(sleepers.indexOf(sleeper), 1);
            reject(signal.reason);
          },
          { once: true },
        );
        notify();
      });
    },
    advance(ms) {
      now += ms;
      for (const s of [...sleepers].filter((x) => x.due <= now)) {
        sleepers.splice(sleepers.indexOf(s), 1);
        s.resolve();
      }
    },
    async waitForSleepers(count = 1) {
      while (sleepers.length < count) await new Promise<void>((r) => watchers.push(r));
    },
  };
}

/** A Clock whose sleeps resolve at once (advancing monotonic time), for code paths that only retry. */
export function createInstantClock(): Clock & { readonly sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(1_700_000_000_000 + now),
    monotonic: () => now,
    sleep(ms, signal) {
      sleeps.push(ms);
      if (signal?.aborted) return Promise.reject(signal.reason);
      now += ms;
      return Promise.resolve();
    },
  };
}
