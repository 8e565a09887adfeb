import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dockerPayload, runDockerJob } from '../docker/harness.js';
import {
  destroyGroup,
  eventually,
  hostAddress,
  localConfig,
  namespaces,
  requireTools,
  startTestFleet,
  type TestFleet,
} from './harness.js';

const PRIMARY = 'e2efa';
const BACKUP = 'e2efb';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-failover-'));
let t: TestFleet | undefined;

beforeAll(() => requireTools());

afterAll(async () => {
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  await destroyGroup(BACKUP, join(dir, 'b'));
  await destroyGroup(PRIMARY, dir);
  expect([...(await namespaces(PRIMARY)), ...(await namespaces(BACKUP))]).toEqual([]);
});

describe('failover between providers', () => {
  it('uses the backup while the primary has no capacity, and the primary again once it recovers', async () => {
    t = await startTestFleet({
      group: PRIMARY,
      dir,
      autoscaler: {
        providers: [
          { name: 'primary', plugin: 'local', plugin_config: localConfig(PRIMARY, dir, { max_size: 1 }) },
          {
            name: 'backup',
            plugin: 'local',
            plugin_config: localConfig(BACKUP, join(dir, 'b'), {
              insecure_registries: [`${hostAddress(PRIMARY)}:5000`],
            }),
            backup: true,
          },
        ],
        failover_after: '2s',
        max_use_count: 1,
      },
    });
    const fleet = t.fleet;
    const long = runDockerJob(t.factory, dockerPayload(['echo long', 'sleep 8']));
    await eventually('the primary machine busy', 240, () =>
      fleet.scaler.machines().some((m) => m.key.startsWith('primary/') && m.busy > 0),
    );
    const second = await runDockerJob(t.factory, dockerPayload(['echo second']));
    expect(second.outcome.state, second.log).toBe('success');
    expect(second.log).toMatch(/Running on machine flotilla-e2efb-\d+/);
    const first = await long;
    expect(first.outcome.state, first.log).toBe('success');
    expect(first.log).toMatch(/Running on machine flotilla-e2efa-\d+/);
    await eventually(
      'primary machines removed after use',
      60,
      async () => (await namespaces(PRIMARY)).length === 0,
    );
    await eventually('the primary out of backoff', 80, () => fleet.group.status().every((p) => !p.backoff));
    // A backup machine still booting from the outage (a slow boot on a loaded host) would be ready
    // and idle for the next job: wait until the backup has none, so the next one must be created.
    await eventually('backup machines removed', 90, async () => (await namespaces(BACKUP)).length === 0);
    const third = await runDockerJob(t.factory, dockerPayload(['echo third']));
    expect(third.outcome.state, third.log).toBe('success');
    expect(third.log).toMatch(/Running on machine flotilla-e2efa-\d+/);
    expect(fleet.group.status().find((p) => p.name === 'backup')?.paused).toBe(true);
    const metrics = await t.registry.metrics();
    expect(metrics).toMatch(
      /flotilla_autoscaler_provider_errors_total\{runner="e2efa",provider="primary",operation="increase",kind="capacity"\} [1-9]/,
    );
  });
});
