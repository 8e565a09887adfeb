/**
 * The `aws` provider end to end: a runner manager process launches EC2 instances through the
 * emulated EC2 Query API (signed with keys from a shared credentials file), each instance is a real
 * machine (network namespace + Docker Engine), a pushed pipeline of three jobs runs on them, and
 * every instance is terminated through the API afterwards (max_use_count = 1): nothing is left at
 * the "cloud" or on the host. Spot capacity is refused throughout: every machine falls back to
 * on-demand.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { startEc2Emulator } from '../../emulators/aws/emulator.js';
import { cloudTestBed, runThreeJobsAndDrain, startCloudRunner } from './cloud-harness.js';

const MACHINES = 'e2eaws';
const dir = mkdtempSync(join(tmpdir(), 'flotilla-as-aws-'));
const bed = cloudTestBed(MACHINES, dir, (host) => startEc2Emulator({ dir, host, pageSize: 5 }));

describe('aws provider on emulated EC2', () => {
  it('runs a pipeline of three jobs on on-demand instances when spot is refused, and terminates them all', async () => {
    const e = bed.emulator();
    e.faults.spotRefused = 'InsufficientInstanceCapacity';
    const runner = await startCloudRunner({
      dir,
      machines: MACHINES,
      autoscaler: `    plugin = "aws"
    [runners.autoscaler.plugin_config]
      region = "us-east-1"
      name = "e2eaws"
      launch_template_id = "${e.launchTemplateId}"
      subnet_id = "${e.subnetId}"
      security_group_ids = ["sg-0123456789abcdef0"]
      spot = true
      profile = "${e.profile}"
      credentials_file = "${e.credentialsFile}"
      endpoint = "${e.endpoint}"
      forward_coordinator = true
      boot_timeout = 90`,
    });
    bed.setRunner(runner);
    await runThreeJobsAndDrain(runner, {
      group: 'e2eaws',
      machines: MACHINES,
      what: 'instance terminated',
      left: () => e.instances().length,
    });
    const runs = e.calls.filter((c) => c.action === 'RunInstances');
    const refused = runs.filter((c) => c.code === 'InsufficientInstanceCapacity');
    const launched = runs.filter((c) => c.code === '');
    expect(launched.length).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBe(launched.length);
    for (const c of launched) expect(c.params.has('InstanceMarketOptions.MarketType')).toBe(false);
    expect(e.all()).toHaveLength(launched.length);
    expect(e.all().every((i) => i.state === 'terminated' && i.lifecycle === undefined)).toBe(true);
    expect(
      e.all().every((i) => i.tags['flotilla-group'] === 'e2eaws' && i.tags['flotilla-runner'] === MACHINES),
    ).toBe(true);
    const terminates = e.calls.filter((c) => c.action === 'TerminateInstances' && c.code === '');
    expect(terminates.length).toBe(launched.length);
    expect(e.calls.filter((c) => c.code === 'AuthFailure')).toEqual([]);
    // three machines boot one after another (one per stage): measured 103 s at load 16, 173 s at load 30
  }, 360_000);
});
