import { describe, expect, it } from 'vitest';

import { silentLogger } from '../shared/logger.js';
import { createFleetSampler } from './fleet-samples.js';

describe('fleet sampler', () => {
  it('keeps the newest samples in a ring, oldest first, and skips a failed sample', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    let n = 0;
    const sampler = createFleetSampler({
      clock: { now: () => new Date(t), monotonic: () => t, sleep: () => Promise.resolve() },
      logger: silentLogger(),
      capacity: 3,
      take: () => {
        n += 1;
        if (n === 2) return Promise.reject(new Error('store down'));
        return Promise.resolve({ pending: n, oldest_wait_seconds: n * 10, machines: 1 });
      },
    });
    for (let i = 0; i < 5; i++) {
      await sampler.sample();
      t += 15_000;
    }
    expect(sampler.samples()).toEqual([
      { at: '2026-01-01T00:00:30.000Z', pending: 3, oldest_wait_seconds: 30, machines: 1 },
      { at: '2026-01-01T00:00:45.000Z', pending: 4, oldest_wait_seconds: 40, machines: 1 },
      { at: '2026-01-01T00:01:00.000Z', pending: 5, oldest_wait_seconds: 50, machines: 1 },
    ]);
  });
});
