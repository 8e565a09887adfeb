import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { killMachineProcesses } from '../../../src/autoscaler/providers/local/dockerd.js';
import { createLocalProvider } from '../../../src/autoscaler/providers/local/local-provider.js';
import { localProviderConfigSchema } from '../../../src/autoscaler/providers/local/local-provider-config.js';
import { namespaceCreatedAt } from '../../../src/autoscaler/providers/local/netns.js';
import type { FleetState } from '../../../src/autoscaler/state-store.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
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

const GROUP = 'e2el';
let t: TestFleet | undefined;
let dir = '';

beforeAll(() => requireTools());

afterAll(async () => {
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  await destroyGroup(GROUP, dir || '/nonexistent');
  expect(await namespaces(GROUP)).toEqual([]);
});

const idlePolicy = { policy: [{ idle_count: 1, idle_time: '3s' }] };

describe('machine lifecycle on local machines', () => {
  it('keeps an idle pool, runs a job on it, and trims the extra machine after idle_time', async () => {
    t = await startTestFleet({ group: GROUP, autoscaler: { ...idlePolicy, max_instances: 3 } });
    dir = t.dir;
    const idle = await eventually('one idle machine', 120, () =>
      t?.fleet.scaler.machines().find((m) => m.state === 'ready'),
    );
    const run = await runDockerJob(t.factory, dockerPayload(['echo on the pool']));
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toContain(`Running on machine ${idle.key.split('/')[1]}`);
    // a second machine was created to keep one idle slot while the job ran; afterwards one is trimmed
    await eventually(
      'the pool trimmed back to one machine',
      120,
      () => t?.fleet.scaler.machines().length === 1,
    );
    await eventually('one namespace', 40, async () => (await namespaces(GROUP)).length === 1);
  });

  it('a restarted manager adopts its machines instead of leaking or deleting them', async () => {
    const before = t?.fleet.scaler.machines().map((m) => m.key) ?? [];
    expect(before).toHaveLength(1);
    await t?.fleet.stop();
    const saved = JSON.parse(readFileSync(t?.statePath ?? '', 'utf8')) as FleetState;
    expect(saved.machines.map((m) => m.key)).toEqual(before);
    t = await startTestFleet({ group: GROUP, dir, autoscaler: { ...idlePolicy, max_instances: 3 } });
    await eventually('the adopted machine ready', 60, () =>
      t?.fleet.scaler.machines().find((m) => m.state === 'ready'),
    );
    expect(t.fleet.scaler.machines().map((m) => m.key)).toEqual(before);
    expect(await namespaces(GROUP)).toEqual(before.map((k) => k.split('/')[1]));
  });

  // The killed engine's connections: the wait for the job container gets its headers at once and
  // then a dropped connection; the liveness watch covers engines that never drop them.
  it('a machine killed mid-job: the job is retried on another machine and keeps its place', async () => {
    if (!t) throw new Error('no fleet');
    const fleet = t.fleet;
    let killed = '';
    let killedAt = 0;
    const run = await runDockerJob(t.factory, dockerPayload(['echo start', 'sleep 6', 'echo finished']), {
      onStage: (stage) => {
        if (stage !== 'step_script' || killed) return;
        const m = fleet.scaler.machines().find((x) => x.busy > 0);
        killed = m?.key.split('/')[1] ?? '';
        setTimeout(() => {
          killedAt = Date.now();
          void killMachineProcesses(killed);
        }, 1500);
      },
    });
    expect(killed).not.toBe('');
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toContain(`WARNING: Machine ${killed} was lost`);
    expect(run.log).toContain('Retrying the job on another machine from step_script (machine 2 of 3)');
    const second = /Running on machine (flotilla-e2el-\d+)/g;
    const machines = [...run.log.matchAll(second)].map((m) => m[1]);
    expect(machines).toHaveLength(2);
    expect(machines[1]).not.toBe(killed);
    expect(run.log.indexOf('finished')).toBeGreaterThan(run.log.lastIndexOf('Running on machine'));
    // its id may already serve a new machine of the pool: gone means absent or created after the kill
    await eventually('the killed machine removed', 180, async () => {
      const created = await namespaceCreatedAt(killed);
      return created === null || created.getTime() > killedAt;
    });
    const metrics = await t.registry.metrics();
    expect(metrics).toMatch(
      /flotilla_autoscaler_scale_operations_total\{runner="e2el",operation="lost",result="success"\} [1-9]/,
    );
  });

  it('the cleaners remove a planted orphan and a zero-id state entry', async () => {
    if (!t) throw new Error('no fleet');
    await t.fleet.stop();
    const planted = createLocalProvider({
      config: localProviderConfigSchema.parse(localConfig(GROUP, dir)),
      runnerName: GROUP,
    });
    await planted.init({ clock: systemClock, logger: silentLogger() });
    const [orphan] = await planted.increase(1);
    const state = JSON.parse(readFileSync(t.statePath, 'utf8')) as FleetState;
    state.machines.push({
      key: '',
      state: 'creating',
      createdAt: new Date(Date.now() - 3_600_000).toISOString(),
      useCount: 0,
      busy: 0,
    });
    mkdirSync(dirname(t.statePath), { recursive: true });
    writeFileSync(t.statePath, JSON.stringify(state));
    t = await startTestFleet({
      group: GROUP,
      dir,
      autoscaler: { ...idlePolicy, cleaner: { interval: 0, orphan_min_age: 0, zero_id_max_age: '10m' } },
    });
    const dry = await t.fleet.clean({ dryRun: true });
    expect(dry.orphans.found).toEqual([`local/${orphan}`]);
    expect(dry.zeroIds.found).toBe(1);
    expect(await namespaces(GROUP)).toContain(orphan);
    const report = await t.fleet.clean({ dryRun: false });
    expect(report.orphans.removed).toEqual([`local/${orphan}`]);
    expect(report.zeroIds.removed).toBe(1);
    expect(await namespaces(GROUP)).not.toContain(orphan);
    expect(t.fleet.scaler.zeroIdRecords()).toEqual([]);
    const metrics = await t.registry.metrics();
    expect(metrics).toContain(
      'flotilla_autoscaler_cleaner_machines_total{runner="e2el",cleaner="orphan",result="removed"} 1',
    );
    expect(metrics).toContain(
      'flotilla_autoscaler_cleaner_machines_total{runner="e2el",cleaner="zero_id",result="removed"} 1',
    );
  });
});
