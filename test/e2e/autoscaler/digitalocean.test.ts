/**
 * The `digitalocean` provider end to end: a runner manager process creates droplets through the
 * emulated DigitalOcean API, each droplet is a real machine (network namespace + Docker Engine), a
 * pushed pipeline of three jobs runs on them, and every droplet is deleted through the API
 * afterwards (max_use_count = 1): nothing is left at the "cloud" or on the host.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startDoEmulator, type DoEmulator } from '../../emulators/digitalocean/emulator.js';
import { netnsMachineHost, type MachineHost } from '../../emulators/machine-host.js';
import { startCloudRunner, runThreeJobsAndDrain, type CloudRunner } from './cloud-harness.js';
import { destroyGroup, localConfig, namespaces, requireTools } from './harness.js';

const MACHINES = 'e2edo';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-do-'));
let host: MachineHost | undefined;
let emu: DoEmulator | undefined;
let runner: CloudRunner | undefined;

beforeAll(async () => {
  requireTools();
  host = await netnsMachineHost(localConfig(MACHINES, join(dir, 'host')));
  emu = await startDoEmulator({ host });
});

afterAll(async () => {
  await runner?.stop();
  await emu?.close();
  await host?.close();
  await destroyGroup(MACHINES, join(dir, 'host'));
  expect(await namespaces(MACHINES)).toEqual([]);
});

describe('digitalocean provider on emulated DigitalOcean', () => {
  it('runs a pipeline of three jobs on fresh droplets and deletes them all', async () => {
    const e = emu as DoEmulator;
    const tokenFile = join(dir, 'do-token');
    writeFileSync(tokenFile, e.token, { mode: 0o600 });
    runner = await startCloudRunner({
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
