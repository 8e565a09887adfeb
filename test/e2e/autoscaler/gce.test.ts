/**
 * The `gce` provider end to end: a runner manager process creates Compute Engine instances through
 * the emulated Compute API (two zones), each instance is a real machine (network namespace + Docker
 * Engine), a pushed pipeline of three jobs runs on them, and every instance is deleted through the
 * API afterwards (max_use_count = 1): nothing is left at the "cloud" or on the host.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { startGceEmulator } from '../../emulators/gce/emulator.js';
import { cloudTestBed, runThreeJobsAndDrain, startCloudRunner } from './cloud-harness.js';

const MACHINES = 'e2egc';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-gce-'));
const bed = cloudTestBed(MACHINES, dir, (host) => startGceEmulator({ dir, host }));

describe('gce provider on emulated Compute Engine', () => {
  it('runs a pipeline of three jobs on fresh instances in two zones and deletes them all', async () => {
    const e = bed.emulator();
    const runner = await startCloudRunner({
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
    bed.setRunner(runner);
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
