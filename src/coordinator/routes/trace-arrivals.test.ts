import { describe, expect, it } from 'vitest';

import { createTraceArrivals, PREDECESSOR_WAIT_MS, type Sleep } from './trace-arrivals.js';

/** A sleep that never ends by itself (only an abort ends it), and the waits asked for. */
function heldSleep(): { sleep: Sleep; asked: number[]; expire: () => void } {
  const asked: number[] = [];
  const pending: (() => void)[] = [];
  const sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      asked.push(ms);
      pending.push(resolve);
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  return { sleep, asked, expire: () => pending.splice(0).forEach((r) => r()) };
}

const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('trace arrivals', () => {
  it('holds a PATCH until the one registered before it, ending where it starts, is answered', async () => {
    const { sleep, asked } = heldSleep();
    const arrivals = createTraceArrivals(sleep);
    const first = arrivals.begin(7, 0, 100);
    const second = arrivals.begin(7, 100, 150);
    const waiting = arrivals.predecessor(7, 100, second);
    expect(await settled(waiting)).toBe(false);
    expect(asked).toEqual([PREDECESSOR_WAIT_MS]);
    first();
    expect(await settled(waiting)).toBe(true);
  });

  it('never holds a PATCH with no predecessor in flight: other jobs, gaps, later arrivals', async () => {
    const arrivals = createTraceArrivals(heldSleep().sleep);
    arrivals.begin(8, 0, 100); // another job
    arrivals.begin(7, 0, 90); // ends short of the PATCH below: a gap
    const self = arrivals.begin(7, 100, 150);
    arrivals.begin(7, 50, 100); // registered after it: never waited for
    expect(await settled(arrivals.predecessor(7, 100, self))).toBe(true);
    expect(await settled(arrivals.predecessor(9, 0, () => undefined))).toBe(true);
  });

  it('stops holding after the bounded wait, and forgets ended arrivals', async () => {
    const { sleep, expire } = heldSleep();
    const arrivals = createTraceArrivals(sleep);
    const first = arrivals.begin(7, 0, 100);
    const second = arrivals.begin(7, 100, 150);
    const waiting = arrivals.predecessor(7, 100, second);
    expire();
    expect(await settled(waiting)).toBe(true);
    first();
    first(); // ending twice is harmless
    second();
    const third = arrivals.begin(7, 150, 200);
    expect(await settled(arrivals.predecessor(7, 150, third))).toBe(true);
  });
});
