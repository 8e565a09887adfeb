/**
 * The seed's layout under a zone outage, with real machines behind emulated clouds: GCE in
 * us-east1-c and us-east1-d as the primary, DigitalOcean (nyc1) as the backup. One zone fails: the
 * job runs in the other zone. Both fail: after `failover_after` the DigitalOcean backup takes the
 * job. GCE comes back: the next job runs on GCE again and the backup is paused.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startDoEmulator, type DoEmulator } from '../../emulators/digitalocean/emulator.js';
import { startGceEmulator, type GceEmulator } from '../../emulators/gce/emulator.js';
import { netnsMachineHost, type MachineHost } from '../../emulators/machine-host.js';
import { dockerPayload, runDockerJob } from '../docker/harness.js';
import {
  destroyGroup,
  eventually,
  localConfig,
  namespaces,
  requireTools,
  startTestFleet,
  type TestFleet,
} from './harness.js';

const MACHINES = 'e2ecf';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-cloudfail-'));
let host: MachineHost | undefined;
let gce: GceEmulator | undefined;
let dop: DoEmulator | undefined;
let t: TestFleet | undefined;

beforeAll(async () => {
  requireTools();
  host = await netnsMachineHost(localConfig(MACHINES, join(dir, 'host')));
  gce = await startGceEmulator({ dir, host });
  dop = await startDoEmulator({ host });
});

afterAll(async () => {
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  await gce?.close();
  await dop?.close();
  await host?.close();
  await destroyGroup(MACHINES, join(dir, 'host'));
  expect(await namespaces(MACHINES)).toEqual([]);
});

describe('zone outage: GCE zones, then the DigitalOcean backup, then GCE again', () => {
  it('moves jobs to the other zone, then to the backup, and back to GCE when it recovers', async () => {
    const g = gce as GceEmulator;
    const d = dop as DoEmulator;
    const tokenFile = join(dir, 'do-token');
    writeFileSync(tokenFile, d.token, { mode: 0o600 });
    const common = { forward_coordinator: true, boot_timeout: 90, retries: 1, request_timeout: 5 };
    t = await startTestFleet({
      group: MACHINES,
      dir,
      autoscaler: {
        providers: [
          {
            name: 'gce',
            plugin: 'gce',
            plugin_config: {
              project: g.project,
              zones: ['us-east1-c', 'us-east1-d'],
              name: 'e2egcf',
              credentials_file: g.serviceAccount.keyFile,
              api_endpoint: g.endpoint,
              ...common,
            },
          },
          {
            name: 'do',
            plugin: 'digitalocean',
            backup: true,
            plugin_config: {
              region: 'nyc1',
              name: 'e2edof',
              token_file: tokenFile,
              api_endpoint: d.endpoint,
              ...common,
            },
          },
        ],
        failover_after: '2s',
        max_use_count: 1,
      },
    });
    const fleet = t.fleet;

    g.faults.zonesDown.add('us-east1-c');
    const first = await runDockerJob(t.factory, dockerPayload(['echo zone-d']));
    expect(first.outcome.state, first.log).toBe('success');
    expect(first.log).toMatch(/Running on machine flotilla-e2egcf-[0-9a-f]{8}/);
    expect(g.instances().every((i) => i.zone === 'us-east1-d')).toBe(true);
    console.log(`zone us-east1-c down: job on GCE us-east1-d in ${first.seconds.toFixed(1)} s`);

    g.faults.zonesDown.add('us-east1-d');
    const second = await runDockerJob(t.factory, dockerPayload(['echo on-backup']));
    expect(second.outcome.state, second.log).toBe('success');
    expect(second.log).toMatch(/Running on machine flotilla-e2edof-[0-9a-f]{8}/);
    console.log(`both zones down: job on the DigitalOcean backup in ${second.seconds.toFixed(1)} s`);

    g.faults.zonesDown.clear();
    // The failed list calls kept doubling GCE's backoff up to its 60 s cap (throttle.ts) until the
    // zones came back, so leaving it can take a whole minute after the last failure: wait 90 s.
    await eventually('GCE out of backoff', 180, () => fleet.group.status().every((p) => !p.backoff));
    const third = await runDockerJob(t.factory, dockerPayload(['echo gce-again']));
    expect(third.outcome.state, third.log).toBe('success');
    expect(third.log).toMatch(/Running on machine flotilla-e2egcf-[0-9a-f]{8}/);
    expect(fleet.group.status().find((p) => p.name === 'do')?.paused).toBe(true);
    console.log(`GCE back: job on GCE in ${third.seconds.toFixed(1)} s`);

    await eventually(
      'every instance and droplet deleted',
      120,
      () => g.instances().length + d.droplets().length === 0,
    );
    const metrics = await t.registry.metrics();
    expect(metrics).toMatch(
      /flotilla_autoscaler_provider_errors_total\{runner="e2ecf",provider="gce",operation="(update|increase)",kind="api"\} [1-9]/,
    );
  }, 480_000);
});
