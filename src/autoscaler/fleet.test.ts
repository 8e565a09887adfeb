import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { fakeProviderFactory } from '../../test/kits/autoscaler/fake-provider.js';
import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { readDemand } from './demand-store.js';
import { autoscalerConfigSchema, policySchema } from './autoscaler-config.js';
import { changedKeys, createFleet } from './fleet.js';
import { registerProvider } from './providers/registry.js';

// The `fake` provider is a test kit, registered as a plugin would be.
registerProvider(fakeProviderFactory);

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleet-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = autoscalerConfigSchema.parse({
  plugin: 'fake',
  plugin_config: { boot_seconds_min: 0, boot_seconds_max: 0 },
  max_instances: 4,
});

describe('fleet reconfigure', () => {
  it('applies reloaded policies at the next tick and names the keys that need a restart', async () => {
    const fleet = createFleet({
      runnerName: 'r',
      config: base,
      statePath: path.join(dir, 'autoscaler-r.json'),
      controlPath: path.join(dir, 'autoscaler-control.json'),
      clock: systemClock,
      logger: silentLogger(),
      registry: new Registry(),
    });
    await fleet.group.init({ clock: systemClock, logger: silentLogger() });
    await fleet.scaler.tick();
    expect(fleet.scaler.machines()).toHaveLength(0);

    const next = { ...base, max_instances: 8, policy: [policySchema.parse({ idle_count: 2 })] };
    expect(fleet.reconfigure(next)).toEqual(['max_instances']);
    await fleet.scaler.tick();
    expect(fleet.scaler.machines()).toHaveLength(2);
    await fleet.stop({ deleteInstances: true });
  });

  it('compares every key but the policies', () => {
    expect(changedKeys(base, { ...base, policy: [policySchema.parse({ idle_count: 9 })] })).toEqual([]);
    expect(changedKeys(base, { ...base, capacity_per_instance: 2, max_use_count: 3 })).toEqual([
      'capacity_per_instance',
      'max_use_count',
    ]);
  });
});

describe('fleet predictive history', () => {
  const predictive = autoscalerConfigSchema.parse({
    plugin: 'fake',
    plugin_config: { boot_seconds_min: 0, boot_seconds_max: 0 },
    max_instances: 4,
    predictive: { enabled: true },
  });
  const fleetOf = (config = predictive) =>
    createFleet({
      runnerName: 'r',
      config,
      statePath: path.join(dir, 'autoscaler-r.json'),
      controlPath: path.join(dir, 'autoscaler-control.json'),
      clock: systemClock,
      logger: silentLogger(),
      registry: new Registry(),
    });

  it("outlives the manager: saved at stop beside the state file, restored by the next manager's start", async () => {
    const first = fleetOf();
    await first.start();
    // A job asks for a slot (an arrival), then is canceled (a fake machine has no engine to be ready).
    const asking = new AbortController();
    const slot = first.scaler.acquire('job-1', { signal: asking.signal });
    asking.abort();
    await expect(slot).rejects.toThrow();
    await first.stop({ deleteInstances: true });
    const saved = await readDemand(path.join(dir, 'demand-autoscaler-r.json'));
    expect(saved?.arrivals).toHaveLength(1);

    const second = fleetOf();
    await second.start();
    expect(second.scaler.demand()?.snapshot()).toEqual(saved);
    await second.stop({ deleteInstances: true });
  });

  it('keeps no history without the predictive pool', async () => {
    const plain = fleetOf(base);
    expect(plain.scaler.demand()).toBeNull();
    await plain.start();
    await plain.stop({ deleteInstances: true });
    expect(await readDemand(path.join(dir, 'demand-autoscaler-r.json'))).toBeNull();
  });
});
