import { describe, expect, it } from 'vitest';

import type { Clock } from '../../shared/clock.js';
import { ChangeNotice } from './change-notice.js';

/** A clock whose sleeps end only when told (or when aborted). */
function manualClock(): Clock & { sleeping: number; wakeAll(): void } {
  const waiters = new Set<() => void>();
  return {
    now: () => new Date(0),
    monotonic: () => 0,
    get sleeping() {
      return waiters.size;
    },
    wakeAll: () => {
      for (const w of waiters) w();
    },
    sleep: (_ms, signal) =>
      new Promise<void>((resolve, reject) => {
        const done = (): void => {
          waiters.delete(done);
          resolve();
        };
        waiters.add(done);
        signal?.addEventListener('abort', () => {
          waiters.delete(done);
          reject(signal.reason);
        });
      }),
  };
}

describe('ChangeNotice', () => {
  it('ends a wait at the next notice and releases the sleep', async () => {
    const clock = manualClock();
    const notice = new ChangeNotice();
    const waiting = notice.wait(clock, 300);
    expect(clock.sleeping).toBe(1);
    notice.notify();
    await waiting;
    expect(clock.sleeping).toBe(0);
  });

  it('keeps a notice given between two waits for the next one', async () => {
    const clock = manualClock();
    const notice = new ChangeNotice();
    notice.notify();
    await notice.wait(clock, 300);
    expect(clock.sleeping).toBe(0);
    const waiting = notice.wait(clock, 300);
    expect(clock.sleeping).toBe(1);
    clock.wakeAll();
    await waiting;
  });

  it('rejects with the reason when its signal is aborted', async () => {
    const clock = manualClock();
    const stop = new AbortController();
    const waiting = new ChangeNotice().wait(clock, 300, stop.signal);
    stop.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    expect(clock.sleeping).toBe(0);
  });
});
