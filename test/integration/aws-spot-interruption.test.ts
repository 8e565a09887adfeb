/**
 * A spot instance the cloud takes back, through the whole autoscaler: a fleet of the `aws` provider
 * on the EC2 emulator (machines are loopback `/_ping` servers) keeps one idle spot instance; the
 * cloud stops it (interruption behaviour stop: the instance stays, stopped), then terminates its
 * replacement. Each time the fleet notices, removes what is left at the cloud and launches a new
 * one; in the end exactly one instance lives and every other one is terminated: nothing leaks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { autoscalerConfigSchema } from '../../src/autoscaler/autoscaler-config.js';
import { createFleet, type Fleet } from '../../src/autoscaler/fleet.js';
import { controlPath, defaultStatePath } from '../../src/autoscaler/state-store.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { startEc2Emulator, type Ec2Emulator } from '../emulators/aws/emulator.js';
import { pingMachineHost, type MachineHost } from '../emulators/machine-host.js';

const PORT = 24560 + (process.pid % 200);
const dir = mkdtempSync(join(tmpdir(), 'flotilla-aws-spot-'));
let host: MachineHost;
let emu: Ec2Emulator;
let fleet: Fleet;

beforeAll(async () => {
  host = pingMachineHost({ block: 77, port: PORT });
  emu = await startEc2Emulator({ dir, host });
  const configPath = join(dir, 'config.toml');
  fleet = createFleet({
    runnerName: 'spot',
    config: autoscalerConfigSchema.parse({
      plugin: 'aws',
      plugin_config: {
        region: 'us-east-1',
        name: 'spot',
        launch_template_id: emu.launchTemplateId,
        profile: emu.profile,
        credentials_file: emu.credentialsFile,
        endpoint: emu.endpoint,
        spot: true,
        docker_port: PORT,
        boot_timeout: 30,
      },
      max_instances: 2,
      update_interval: '1s',
      update_interval_when_expecting: '1s',
      deletion_retry_interval: '1s',
      cleaner: { interval: 0 },
      policy: [{ idle_count: 1, idle_time: '10m' }],
    }),
    statePath: defaultStatePath(configPath, 'spot'),
    controlPath: controlPath(configPath),
    clock: systemClock,
    logger: silentLogger(),
    registry: new Registry(),
  });
  await fleet.start();
});

afterAll(async () => {
  await fleet?.stop({ deleteInstances: true });
  const left = emu?.instances().length;
  await emu?.close();
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
  expect(left).toBe(0);
});

async function eventually<T>(what: string, check: () => T | null | undefined | false): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}: ${JSON.stringify(emu.all().map((i) => [i.id, i.state]))}`);
}

/** The one live instance, once the fleet holds it ready. */
const readyOne = (what: string) =>
  eventually(what, () => {
    const live = emu.instances();
    const ready = fleet.scaler.machines().filter((m) => m.state === 'ready');
    return live.length === 1 && live[0]?.state === 'running' && ready.length === 1 && live[0];
  });

describe('aws: spot instances interrupted by the cloud', () => {
  it('notices a stopped and a terminated spot instance, removes what is left at the cloud and replaces each', async () => {
    const first = await readyOne('the first idle spot instance');
    expect(first.lifecycle).toBe('spot');

    await emu.interrupt(first.id, 'stopped');
    const second = await readyOne('a replacement of the stopped instance');
    expect(second.id).not.toBe(first.id);
    // the stopped one was not just forgotten: the fleet terminated it (a stopped instance still costs)
    expect(emu.all().find((i) => i.id === first.id)?.state).toBe('terminated');
    const terminations = emu.calls.filter((c) => c.action === 'TerminateInstances' && c.code === '');
    expect(terminations.some((c) => c.params.get('InstanceId.1') === first.id)).toBe(true);

    await emu.interrupt(second.id, 'terminated');
    const third = await readyOne('a replacement of the terminated instance');
    expect(new Set([first.id, second.id, third.id]).size).toBe(3);
    expect(
      emu
        .all()
        .filter((i) => i.state !== 'terminated')
        .map((i) => i.id),
    ).toEqual([third.id]);
    expect(fleet.scaler.machines().map((m) => m.key)).toEqual([
      expect.stringContaining(third.tags.Name ?? ''),
    ]);
  }, 60_000);
});
