/**
 * The `digitalocean` provider end to end: a runner manager process creates droplets through the
 * emulated DigitalOcean API, each droplet is a real machine (network namespace + Docker Engine), a
 * pushed pipeline of three jobs runs on them, and every droplet is deleted through the API
 * afterwards (max_use_count = 1): nothing is left at the "cloud" or on the host.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { startDoEmulator } from '../../emulators/digitalocean/emulator.js';
import { cloudTestBed, runThreeJobsAndDrain, startCloudRunner } from './cloud-harness.js';

const MACHINES = 'e2edo';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-do-'));
const bed = cloudTestBed(MACHINES, dir, (host) => startDoEmulator({ host }));

describe('digitalocean provider on emulated DigitalOcean', () => {
  it('runs a pipeline of three jobs on fresh droplets and deletes them all', async () => {
    const e = bed.emulator();
    const tokenFile = join(dir, 'do-token');
    writeFileSync(tokenFile, e.token, { mode: 0o600 });
    const runner = await startCloudRunner({
      dir,
      machines: MACHINES,
      autoscaler: `    plugin = "digitalocean"
    [runners.autoscaler.plugin_config]
      region = "nyc1"
      name = "e2edroplet"
      token_file = "${tokenFile}"
      api_endpoint = "${e.endpoint}"
      forward_coordinator = true
      boot_timeout = 90`,
    });
    bed.setRunner(runner);
    await runThreeJobsAndDrain(runner, {
      group: 'e2edroplet',
      machines: MACHINES,
      what: 'droplet deleted',
      left: () => e.droplets().length,
    });
    const creates = e.server.log.filter((l) => l.method === 'POST' && l.path === '/v2/droplets');
    const deletes = e.server.log.filter((l) => l.method === 'DELETE' && l.status === 204);
    expect(creates.length).toBeGreaterThanOrEqual(3);
    expect(deletes.length).toBe(creates.filter((l) => l.status === 202).length);
    expect(e.server.log.filter((l) => l.status === 401)).toEqual([]);
  });
});
