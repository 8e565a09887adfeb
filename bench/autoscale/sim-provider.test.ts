import { describe, expect, it } from 'vitest';

import { ProviderError } from '../../src/autoscaler/providers/provider.js';
import { createSimClock } from './sim-clock.js';
import { bootSeconds, createSimProvider, type SimProviderSettings } from './sim-provider.js';
import { seededRandom } from './workload.js';
import { CALM_PROVIDER } from './calm-provider.js';

const calm: SimProviderSettings = CALM_PROVIDER;

async function states(p: ReturnType<typeof createSimProvider>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await p.update((i) => void (out[i.id] = i.state));
  return out;
}

describe('simulated provider', () => {
  it('boots machines after their boot time and deletes them after deleteSeconds', async () => {
    const clock = createSimClock();
    const p = createSimProvider(calm, clock, seededRandom(1));
    const [id] = await p.increase(1);
    expect(await states(p)).toEqual({ [id!]: 'creating' });
    clock.advance(59_000);
    expect((await states(p))[id!]).toBe('creating');
    clock.advance(1_000);
    expect((await states(p))[id!]).toBe('running');
    expect(await p.decrease([id!])).toEqual([id]);
    expect((await states(p))[id!]).toBe('deleting');
    clock.advance(10_000);
    expect(await states(p)).toEqual({});
  });

  it('creates what the rate limit allows and says so with a rate_limit error carrying the ids', async () => {
    const clock = createSimClock();
    const p = createSimProvider({ ...calm, mutationsPerMinute: 3 }, clock, seededRandom(1));
    const err = await p.increase(5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('rate_limit');
    expect((err as ProviderError).created).toHaveLength(3);
    await expect(p.increase(1)).rejects.toMatchObject({ kind: 'rate_limit', created: [] });
    clock.advance(60_000);
    expect(await p.increase(1)).toHaveLength(1);
    expect(p.stats.rateLimited).toBe(2);
  });

  it('counts deleting machines against the quota and answers capacity when full', async () => {
    const clock = createSimClock();
    const p = createSimProvider({ ...calm, quota: 2 }, clock, seededRandom(1));
    const ids = await p.increase(3);
    expect(ids).toHaveLength(2);
    await p.decrease(ids);
    await expect(p.increase(1)).rejects.toMatchObject({ kind: 'capacity' });
    clock.advance(10_000);
    expect(await p.increase(1)).toHaveLength(1);
  });

  it('leaves never-ready machines creating for good', async () => {
    const clock = createSimClock();
    const p = createSimProvider({ ...calm, neverReadyRatio: 1 }, clock, seededRandom(1));
    const [id] = await p.increase(1);
    clock.advance(3_600_000);
    expect((await states(p))[id!]).toBe('creating');
    expect(p.stats.neverReady).toBe(1);
  });

  it('draws boot times around the median within the clamp', () => {
    const random = seededRandom(3);
    const boot = { medianSeconds: 60, sigma: 0.3, minSeconds: 30, maxSeconds: 240 };
    const draws = Array.from({ length: 2000 }, () => bootSeconds(boot, random)).sort((a, b) => a - b);
    expect(draws[0]).toBeGreaterThanOrEqual(30);
    expect(draws.at(-1)).toBeLessThanOrEqual(240);
    expect(draws[1000]).toBeGreaterThan(55);
    expect(draws[1000]).toBeLessThan(65);
  });
});
