/**
 * A provider API that answers 429 (or 503) with `Retry-After`: the provider group makes no create
 * call to that provider before the time asked (longer than its own exponential backoff), then
 * creates again; other providers of the group keep creating meanwhile. Injected clock.
 */
import { describe, expect, it } from 'vitest';

import { createFakeClock } from '../../test/kits/fake-clock.js';
import { silentLogger } from '../shared/logger.js';
import { createProviderGroup } from './provider-group.js';
import { createFakeProvider } from '../../test/kits/autoscaler/fake-provider.js';
import { fakeProviderConfigSchema } from '../../test/kits/autoscaler/fake-provider-config.js';
import { ProviderError, type InstanceGroup } from './providers/provider.js';
import { exponentialBackoff, RETRY_AFTER_CAP_MS } from './throttle.js';

function rateLimited(clock: ReturnType<typeof createFakeClock>, retryAfterMs: number) {
  const fake = createFakeProvider(fakeProviderConfigSchema.parse({}), { clock, random: () => 0.5 });
  const calls: number[] = [];
  let limited = 1;
  const group: InstanceGroup = {
    ...fake,
    async increase(count) {
      calls.push(clock.now().getTime());
      if (limited-- > 0) throw new ProviderError('rate_limit', '429 Too Many Requests', { retryAfterMs });
      return fake.increase(count);
    },
  };
  return { group, calls };
}

describe('Retry-After on provider errors', () => {
  it('makes no create call before the Retry-After, then creates', async () => {
    const clock = createFakeClock();
    const start = clock.now().getTime();
    const limited = rateLimited(clock, 30_000);
    const group = createProviderGroup({
      members: [{ name: 'p', group: limited.group, backup: false }],
      failoverAfterMs: 600_000,
      throttle: { limit: -1, burst: 10 },
      clock,
      logger: silentLogger(),
    });
    await group.init({ clock, logger: silentLogger() });
    expect(await group.increase(1)).toEqual([]);
    // The exponential backoff alone would allow a call after 1 s: the server asked for 30 s.
    for (let s = 1; s < 30; s++) {
      clock.advance(1000);
      expect(await group.increase(1)).toEqual([]);
      expect(group.status()[0]?.backoff).toBe(true);
    }
    expect(limited.calls).toEqual([start]);
    clock.advance(1000);
    expect(await group.increase(1)).toHaveLength(1);
    expect(limited.calls).toEqual([start, start + 30_000]);
    expect(group.status()[0]?.backoff).toBe(false);
  });

  it('keeps creating on the other providers while one waits', async () => {
    const clock = createFakeClock();
    const limited = rateLimited(clock, 120_000);
    const other = createFakeProvider(fakeProviderConfigSchema.parse({}), { clock, random: () => 0.5 });
    const group = createProviderGroup({
      members: [
        { name: 'a', group: limited.group, backup: false },
        { name: 'b', group: other, backup: false },
      ],
      failoverAfterMs: 600_000,
      throttle: { limit: -1, burst: 10 },
      clock,
      logger: silentLogger(),
    });
    await group.init({ clock, logger: silentLogger() });
    expect((await group.increase(1)).map((k) => k.split('/')[0])).toEqual(['b']);
    clock.advance(60_000);
    expect((await group.increase(1)).map((k) => k.split('/')[0])).toEqual(['b']);
    expect(limited.calls).toHaveLength(1);
  });

  it('never waits less than its own backoff, and at most the cap for a huge Retry-After', () => {
    const backoff = exponentialBackoff(1000, 60_000);
    expect(backoff.failure(0, 500)).toBe(1000);
    expect(backoff.failure(0, 45_000)).toBe(45_000);
    expect(backoff.failure(0)).toBe(4000);
    expect(backoff.failure(0, 10 * 24 * 3600 * 1000)).toBe(RETRY_AFTER_CAP_MS);
    expect(backoff.failure(0, -5)).toBe(16_000);
  });
});
