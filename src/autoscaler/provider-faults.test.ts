/**
 * Provider faults as the fleet lives through them (fake cloud, fake clock): a create whose answer is
 * lost after the cloud made the machine (a timeout), API errors (5xx) on create and list, rate
 * limits (429), and a machine that vanishes. Every job still gets a machine, and after the
 * cleaner's cycle no machine exists at the provider that no state knows (nothing leaked).
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { createFakeClock } from '../../test/kits/fake-clock.js';
import { silentLogger } from '../shared/logger.js';
import { policySchema } from './autoscaler-config.js';
import { cleanFleet } from './cleaner.js';
import { autoscalerMetrics } from './metrics.js';
import { createFakeProvider } from '../../test/kits/autoscaler/fake-provider.js';
import { fakeProviderConfigSchema } from '../../test/kits/autoscaler/fake-provider-config.js';
import { ProviderError, type InstanceGroup } from './providers/provider.js';
import { testProviderGroup, testTaskscaler, tickFleet } from '../../test/kits/autoscaler/test-fleet.js';
import type { Lease } from './taskscaler.js';

describe('provider faults', () => {
  it('gives every job a machine through timeouts, 5xx, 429 and a vanished machine, and leaks none', async () => {
    const clock = createFakeClock();
    const cfg = fakeProviderConfigSchema.parse({
      boot_seconds_min: 5,
      boot_seconds_max: 5,
      delete_seconds: 1,
    });
    const fake = createFakeProvider(cfg, { clock, random: () => 0.5 });
    let loseNextCreateAnswer = true;
    const flaky: InstanceGroup = {
      ...fake,
      async increase(count) {
        const ids = await fake.increase(count);
        if (!loseNextCreateAnswer) return ids;
        loseNextCreateAnswer = false;
        throw new ProviderError('timeout', 'timeout waiting for the create answer');
      },
    };
    const provider = await testProviderGroup([{ name: 'p', group: flaky, backup: false }], clock);
    const metrics = autoscalerMetrics(new Registry());
    const scaler = testTaskscaler({
      provider,
      limits: { capacityPerInstance: 1, maxUseCount: 1, maxInstances: 0 },
      policies: () => [policySchema.parse({ idle_count: 0, idle_time: '0s' })],
      clock,
      metrics,
      persist: async () => undefined,
    });
    fake.failNext('increase', 'api', 2);
    fake.failNext('update', 'api', 2);
    fake.failNext('increase', 'rate_limit', 2);
    const leases: Lease[] = [];
    for (const job of ['a', 'b', 'c']) void scaler.acquire(job).then((l) => leases.push(l));
    const allLeased = (): boolean => leases.length >= 3;
    await tickFleet(scaler, clock, 20, allLeased);
    if (!allLeased()) {
      const victim = scaler.machines().find((m) => m.state === 'creating' || m.state === 'ready');
      if (victim) fake.kill(victim.key.split('/')[1] ?? '');
    }
    await tickFleet(scaler, clock, 280, allLeased);
    expect(leases.map((l) => l.key).length).toBe(3);
    for (const lease of leases) lease.release();
    await tickFleet(scaler, clock, 120);
    const known = new Set(scaler.machines().map((m) => m.key));
    const report = await cleanFleet({
      runner: 'r1',
      group: provider,
      known,
      zeroIds: [],
      dropZeroIds: () => undefined,
      orphanMinAgeMs: 60_000,
      zeroIdMaxAgeMs: 60_000,
      nowMs: clock.now().getTime(),
      dryRun: false,
      logger: silentLogger(),
      metrics,
    });
    expect(report.orphans.found).toEqual(['p/fake-1', 'p/fake-2', 'p/fake-3']);
    expect(report.orphans.errors).toEqual([]);
    clock.advance(2000);
    const leaked = fake.existing().filter((id) => !known.has(`p/${id}`));
    expect(leaked).toEqual([]);
  });
});
