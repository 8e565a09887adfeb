import { afterEach, describe, expect, it } from 'vitest';

import { silentLogger } from '../shared/logger.js';
import { createFleetSampler, type FleetSamplerOptions } from './fleet-samples.js';
import { createMemoryStore } from './store/create-store.js';
import type { Store } from './store/store.js';

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function clockAt(t: { ms: number }): FleetSamplerOptions['clock'] {
  return { now: () => new Date(t.ms), monotonic: () => t.ms, sleep: () => Promise.resolve() };
}

describe('fleet sampler', () => {
  it('keeps the samples of the retention window in the store, oldest first, and skips a failed one', async () => {
    const store = await createMemoryStore();
    stores.push(store);
    const t = { ms: Date.parse('2026-01-01T00:00:00Z') };
    let n = 0;
    const sampler = createFleetSampler({
      clock: clockAt(t),
      logger: silentLogger(),
      store,
      retentionMs: 45_000,
      take: () => {
        n += 1;
        if (n === 2) return Promise.reject(new Error('store down'));
        return Promise.resolve({ pending: n, oldest_wait_seconds: n * 10, machines: 1 });
      },
    });
    for (let i = 0; i < 5; i++) {
      await sampler.sample();
      t.ms += 15_000;
    }
    t.ms -= 15_000;
    expect(await sampler.samples()).toEqual([
      { at: '2026-01-01T00:00:30.000Z', pending: 3, oldest_wait_seconds: 30, machines: 1 },
      { at: '2026-01-01T00:00:45.000Z', pending: 4, oldest_wait_seconds: 40, machines: 1 },
      { at: '2026-01-01T00:01:00.000Z', pending: 5, oldest_wait_seconds: 50, machines: 1 },
    ]);
    // bounded: what fell out of the window is deleted, not only hidden
    expect(await store.listFleetSamples(0)).toHaveLength(3);
  });

  it('keeps one sample per interval when two replicas sample the same store', async () => {
    const store = await createMemoryStore();
    stores.push(store);
    const t = { ms: Date.parse('2026-01-01T00:00:00Z') };
    const replica = (machines: number) =>
      createFleetSampler({
        clock: clockAt(t),
        logger: silentLogger(),
        store,
        take: () => Promise.resolve({ pending: 0, oldest_wait_seconds: 0, machines }),
      });
    const a = replica(1);
    const b = replica(2);
    await a.sample();
    t.ms += 5_000;
    await b.sample(); // same 15 s slot: a's sample stands
    t.ms += 10_000;
    await b.sample();
    t.ms += 2_000;
    await a.sample();
    expect(await a.samples()).toEqual(await b.samples());
    expect((await a.samples()).map((s) => [s.at, s.machines])).toEqual([
      ['2026-01-01T00:00:00.000Z', 1],
      ['2026-01-01T00:00:15.000Z', 2],
    ]);
  });
});
