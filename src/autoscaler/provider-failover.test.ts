/**
 * Failover to a backup provider on "no capacity" (`failover_on_capacity`): the creations a primary
 * could not make go to the backup in the same call, without waiting `failover_after`; other errors
 * still wait for it; the primary gets the next creations once it creates again. Injected clock.
 */
import { describe, expect, it } from 'vitest';

import { createFakeClock, type FakeClock } from '../../test/kits/fake-clock.js';
import { silentLogger } from '../shared/logger.js';
import { createProviderGroup } from './provider-group.js';
import { ProviderError, type InstanceGroup, type ProviderErrorKind } from './providers/provider.js';

/** A provider that creates up to `room` machines per call, or fails every call with `failing`. */
function stubProvider(name: string) {
  let seq = 0;
  const state: { failing: ProviderErrorKind | null; room: number; calls: number[] } = {
    failing: null,
    room: Infinity,
    calls: [],
  };
  const group: InstanceGroup = {
    init: async () => ({ id: name, maxSize: 0, version: '1' }),
    update: async () => undefined,
    async increase(count) {
      state.calls.push(count);
      if (state.failing) throw new ProviderError(state.failing, `simulated ${state.failing}`);
      return Array.from({ length: Math.min(count, state.room) }, () => `${name}${++seq}`);
    },
    decrease: async (ids) => [...ids],
    connectInfo: async (id) => ({ id, internalAddr: id, externalAddr: id, dockerHost: `tcp://${id}` }),
    shutdown: async () => undefined,
  };
  return { group, state };
}

async function pair(clock: FakeClock, failoverOnCapacity: boolean) {
  const primary = stubProvider('p');
  const backup = stubProvider('b');
  const group = createProviderGroup({
    members: [
      { name: 'primary', group: primary.group, backup: false },
      { name: 'backup', group: backup.group, backup: true },
    ],
    failoverAfterMs: 60_000,
    failoverOnCapacity,
    throttle: { limit: -1, burst: 100 },
    clock,
    logger: silentLogger(),
  });
  await group.init({ clock, logger: silentLogger() });
  return { group, primary: primary.state, backup: backup.state };
}

const providers = (keys: string[]): string[] => keys.map((k) => k.split('/')[0] ?? '');

describe('failover on no capacity', () => {
  it('asks the backup in the same call when the primary has no capacity', async () => {
    const clock = createFakeClock();
    const { group, primary, backup } = await pair(clock, true);
    primary.failing = 'capacity';
    expect(providers(await group.increase(3))).toEqual(['backup', 'backup', 'backup']);
    expect(primary.calls).toEqual([3]);
    expect(backup.calls).toEqual([3]);
    expect(group.status().map((s) => s.paused)).toEqual([false, false]);
  });

  it('sends what a primary could not create to the backup (created 1 of 3)', async () => {
    const clock = createFakeClock();
    const { group, primary, backup } = await pair(clock, true);
    primary.room = 1;
    expect(providers(await group.increase(3))).toEqual(['primary', 'backup', 'backup']);
    expect(backup.calls).toEqual([2]);
  });

  it.each([
    { when: 'no capacity, with the setting off', setting: false, error: 'capacity' as const },
    { when: 'errors other than no capacity', setting: true, error: 'api' as const },
  ])('waits failover_after (1 min) for $when', async ({ setting, error }) => {
    const clock = createFakeClock();
    const { group, primary, backup } = await pair(clock, setting);
    primary.failing = error;
    expect(await group.increase(2)).toEqual([]);
    clock.advance(59_000);
    expect(await group.increase(2)).toEqual([]);
    expect(backup.calls).toEqual([]);
    clock.advance(2_000);
    expect(providers(await group.increase(2))).toEqual(['backup', 'backup']);
  });

  it('tries the primary again after its backoff and pauses the backup once it creates', async () => {
    const clock = createFakeClock();
    const { group, primary } = await pair(clock, true);
    primary.failing = 'capacity';
    await group.increase(1);
    // Within the primary's backoff (1 s after one failure) the backup creates, the primary is not asked.
    clock.advance(500);
    expect(providers(await group.increase(1))).toEqual(['backup']);
    expect(primary.calls).toEqual([1]);
    primary.failing = null;
    clock.advance(1_000);
    expect(providers(await group.increase(2))).toEqual(['primary', 'primary']);
    expect(group.status().find((s) => s.name === 'backup')?.paused).toBe(true);
  });
});
