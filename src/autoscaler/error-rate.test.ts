import { describe, expect, it } from 'vitest';

import { createErrorRateWindow } from './error-rate.js';

const at = (minutes: number) => minutes * 60_000;
const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('provider error rate window', () => {
  it('counts errors since the oldest sample of the window, per minute, one minute at least', () => {
    const w = createErrorRateWindow(0, 5 * 60_000);
    expect(w.record(at(0), counts({ gce: 0, do: 0 }))).toEqual(counts({ gce: 0, do: 0 }));
    // Three errors 30 s after start: the denominator is one minute, not half of one.
    expect(w.record(at(0.5), counts({ gce: 3, do: 0 }))).toEqual(counts({ gce: 3, do: 0 }));
    // Ten errors over four minutes.
    expect(w.record(at(4), counts({ gce: 10, do: 0 }))).toEqual(counts({ gce: 2.5, do: 0 }));
  });

  it('forgets errors older than the window, so a provider that recovered reads 0', () => {
    const w = createErrorRateWindow(0, 5 * 60_000);
    w.record(at(0), counts({ gce: 0 }));
    w.record(at(1), counts({ gce: 20 }));
    expect(w.record(at(5), counts({ gce: 20 })).get('gce')).toBe(4);
    // At minute 7 the samples at 0 and 1 are out; the oldest kept (minute 5) already had 20.
    expect(w.record(at(7), counts({ gce: 20 })).get('gce')).toBe(0);
  });

  it('counts errors already there at the first reading from the start', () => {
    const w = createErrorRateWindow(at(0), 5 * 60_000);
    expect(w.record(at(2), counts({ gce: 6 }))).toEqual(counts({ gce: 3 }));
  });

  it('starts again when a counter goes down (its registry was reset) and counts new providers from 0', () => {
    const w = createErrorRateWindow(0, 5 * 60_000);
    w.record(at(0), counts({ gce: 40 }));
    expect(w.record(at(2), counts({ gce: 1 })).get('gce')).toBe(0);
    expect(w.record(at(3), counts({ gce: 3, aws: 2 }))).toEqual(counts({ gce: 2, aws: 2 }));
  });
});
