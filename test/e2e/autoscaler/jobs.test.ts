import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dockerPayload, runDockerJob } from '../docker/harness.js';
import {
  destroyGroup,
  eventually,
  fleetLogTail,
  namespaces,
  requireTools,
  startTestFleet,
  type TestFleet,
} from './harness.js';

const GROUP = 'e2ej';
let t: TestFleet;

beforeAll(async () => {
  requireTools();
  t = await startTestFleet({ group: GROUP, autoscaler: { max_use_count: 1, max_instances: 2 } });
});

afterAll(async () => {
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  await destroyGroup(GROUP, t?.dir ?? '/nonexistent');
  expect(await namespaces(GROUP)).toEqual([]);
});

/** The scale operations this test counts, from the metrics text. */
function fleetCounts(metrics: string): { created: number; lost: number; notReady: number } {
  const count = (operation: string, result: string): number =>
    Number(
      new RegExp(
        `flotilla_autoscaler_scale_operations_total\\{runner="e2ej",operation="${operation}",result="${result}"\\} (\\d+)`,
      ).exec(metrics)?.[1] ?? 0,
    );
  return {
    created: count('create', 'success'),
    lost: count('lost', 'success'),
    notReady: count('ready', 'failure'),
  };
}

describe('docker-autoscaler on local machines', () => {
  it('runs a job on a fresh machine, pulls its image through the registry mirror, and removes the machine after it (max_use_count = 1)', async () => {
    const payload = dockerPayload(['echo "job on $(hostname)"', 'cat /etc/hostname >/dev/null']);
    let machineSeen = '';
    const run = await runDockerJob(t.factory, payload, {
      onStage: (stage) => {
        if (stage !== 'step_script') return;
        const m = t.fleet.scaler.machines()[0];
        machineSeen = m?.key ?? '';
      },
    });
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toMatch(/Running on machine flotilla-e2ej-\d+ \(tcp:\/\/10\.231\.\d+\.\d+:2375\)/);
    expect(run.log).toContain('job on');
    expect(machineSeen).toMatch(/^local\/flotilla-e2ej-\d+$/);
    // the machine is removed right after its job
    await eventually(
      'the used machine to be removed',
      60,
      async () => (await namespaces(GROUP)).length === 0 && t.fleet.scaler.machines().length === 0,
    );
    const metrics = await t.registry.metrics();
    expect(metrics).toMatch(
      /flotilla_autoscaler_machine_creation_duration_seconds_count\{runner="e2ej",provider="local"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /flotilla_autoscaler_scale_operations_total\{runner="e2ej",operation="remove",result="success"\} [1-9]/,
    );
    console.log(`job on a fresh local machine: ${run.seconds.toFixed(1)} s (creation + helper pull + job)`);
  });

  it('scales a burst of jobs up in parallel to max_instances; the rest wait and run on fresh machines', async () => {
    let most = 0;
    const before = fleetCounts(await t.registry.metrics());
    const watch = setInterval(() => {
      most = Math.max(most, t.fleet.scaler.machines().length);
    }, 100);
    try {
      const payloads = [1, 2, 3].map((n) => dockerPayload([`echo burst ${n}`, 'sleep 2']));
      const runs = await Promise.all(payloads.map((p) => runDockerJob(t.factory, p)));
      for (const run of runs) expect(run.outcome.state, run.log).toBe('success');
      const after = fleetCounts(await t.registry.metrics());
      // One fresh machine per job (max_use_count = 1); a machine found lost or failing its ready
      // check under load is replaced, and only those replacements may add to the three.
      const replaced = after.lost - before.lost + (after.notReady - before.notReady);
      const why = `${runs.map((r) => r.log).join('\n')}${fleetLogTail()}`;
      expect(after.created - before.created, why).toBe(3 + replaced);
      expect(most).toBeLessThanOrEqual(2);
      expect(most).toBe(2);
      console.log(
        `burst of 3 jobs on max_instances = 2: ${Math.max(...runs.map((r) => r.seconds)).toFixed(1)} s`,
      );
    } finally {
      clearInterval(watch);
    }
    await eventually('all machines removed', 60, async () => (await namespaces(GROUP)).length === 0);
  });

  it('machines use the configured registry mirror', async () => {
    const payload = dockerPayload(['sleep 3']);
    const job = runDockerJob(t.factory, payload);
    const machine = await eventually('a ready machine', 120, () =>
      t.fleet.scaler.machines().find((m) => m.state === 'ready'),
    );
    const info = await t.fleet.group.connectInfo(machine.key);
    const url = new URL(info.dockerHost.replace('tcp:', 'http:'));
    const engine = new Docker({ host: url.hostname, port: Number(url.port) });
    const docker = (await engine.info()) as { RegistryConfig: { Mirrors: string[] } };
    expect(docker.RegistryConfig.Mirrors).toEqual([`http://${url.hostname.replace(/\.\d+$/, '.1')}:5000/`]);
    expect((await job).outcome.state).toBe('success');
  });
});
