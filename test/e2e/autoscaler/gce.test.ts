/**
 * The `gce` provider end to end: a runner manager process creates Compute Engine instances through
 * the emulated Compute API (two zones), each instance is a real machine (network namespace + Docker
 * Engine), a pushed pipeline of three jobs runs on them, and every instance is deleted through the
 * API afterwards (max_use_count = 1): nothing is left at the "cloud" or on the host.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startGceEmulator, type GceEmulator } from '../../emulators/gce/emulator.js';
import { netnsMachineHost, type MachineHost } from '../../emulators/machine-host.js';
import { startCloudRunner, runThreeJobsAndDrain, type CloudRunner } from './cloud-harness.js';
import { destroyGroup, localConfig, namespaces, requireTools } from './harness.js';

const MACHINES = 'e2egc';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-gce-'));
let host: MachineHost | undefined;
let emu: GceEmulator | undefined;
let runner: CloudRunner | undefined;

beforeAll(async () => {
  requireTools();
  host = await netnsMachineHost(localConfig(MACHINES, join(dir, 'host')));
  emu = await startGceEmulator({ dir, host });
});

afterAll(async () => {
  await runner?.stop();
  await emu?.close();
  await host?.close();
  await destroyGroup(MACHINES, join(dir, 'host'));
  expect(await namespaces(MACHINES)).toEqual([]);
});

describe('gce provider on emulated Compute Engine', () => {
  it('runs a pipeline of three jobs on fresh instances in two zones and deletes them all', async () => {
    const e = emu as GceEmulator;
    runner = await startCloudRunner({
      dir,
      machines: MACHINES,
      autoscaler: `    plugin = "gce"
    [runners.autoscaler.plugin_config]
      project = "${e.project}"
      zones = ["us-east1-c", "us-east1-d"]
      name = "e2egce"
      credentials_file = "${e.serviceAccount.keyFile}"
      api_endpoint = "${e.endpoint}"
      forward_coordinator = true
      boot_timeout = 90`,
    });
    await runThreeJobsAndDrain(runner, {
      group: 'e2egce',
      machines: MACHINES,
      what: 'instance deleted',
      left: () => e.instances().length,
    });
    const inserts = e.server.log.filter((l) => l.method === 'POST' && l.path.endsWith('/instances'));
    const deletes = e.server.log.filter((l) => l.method === 'DELETE' && l.status === 200);
    expect(inserts.length).toBeGreaterThanOrEqual(3);
    expect(deletes.length).toBe(inserts.filter((l) => l.status === 200).length);
    const zones = new Set(inserts.map((l) => /zones\/([^/]+)\//.exec(l.path)?.[1]));
    expect(zones).toEqual(new Set(['us-east1-c', 'us-east1-d']));
    expect(e.server.log.filter((l) => l.status === 401)).toEqual([]);
  });
});
