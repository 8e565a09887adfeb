import { describe, expect, it } from 'vitest';

import { createMachineTargets, type FleetMachine, type FleetView } from './machine-targets.js';

function fleet(
  machines: FleetMachine[],
  info: Record<string, { metricsTargets?: string[]; zone?: string }>,
  calls: string[] = [],
): FleetView {
  return {
    runner: 'abcdef123',
    runnerName: 'ci',
    machines: () => machines,
    connectInfo: (key) => {
      calls.push(key);
      const found = info[key];
      return found ? Promise.resolve(found) : Promise.reject(new Error(`no machine ${key}`));
    },
  };
}

describe('createMachineTargets', () => {
  it('lists each live machine exporter with provider, zone, runner, state and instance id', async () => {
    const view = fleet(
      [
        { key: 'local/flotilla-ci-3', state: 'used' },
        { key: 'cloud/vm-1', state: 'idle' },
        { key: 'local/flotilla-ci-4', state: 'removing' },
      ],
      {
        'local/flotilla-ci-3': { metricsTargets: ['10.0.0.3:9100'] },
        'cloud/vm-1': { metricsTargets: ['10.0.0.2:9100'], zone: 'eu-1a' },
        'local/flotilla-ci-4': { metricsTargets: ['10.0.0.4:9100'] },
      },
    );
    const groups = await createMachineTargets(() => [view]).targets();
    expect(groups).toEqual([
      {
        targets: ['10.0.0.2:9100'],
        labels: {
          __meta_flotilla_component: 'machine',
          __meta_flotilla_provider: 'cloud',
          __meta_flotilla_zone: 'eu-1a',
          __meta_flotilla_runner: 'abcdef123',
          __meta_flotilla_runner_name: 'ci',
          __meta_flotilla_state: 'idle',
          __meta_flotilla_instance_id: 'vm-1',
        },
      },
      {
        targets: ['10.0.0.3:9100'],
        labels: {
          __meta_flotilla_component: 'machine',
          __meta_flotilla_provider: 'local',
          __meta_flotilla_runner: 'abcdef123',
          __meta_flotilla_runner_name: 'ci',
          __meta_flotilla_state: 'used',
          __meta_flotilla_instance_id: 'flotilla-ci-3',
        },
      },
    ]);
  });

  it('skips machines without exporters or whose connect info fails', async () => {
    const view = fleet(
      [
        { key: 'local/a', state: 'idle' },
        { key: 'local/b', state: 'idle' },
      ],
      { 'local/a': {} },
    );
    expect(await createMachineTargets(() => [view]).targets()).toEqual([]);
  });

  it('asks a machine for its connect info once, and again only after it was gone', async () => {
    const calls: string[] = [];
    const machines: FleetMachine[] = [{ key: 'local/a', state: 'creating' }];
    const view = fleet(machines, { 'local/a': { metricsTargets: ['10.0.0.9:9100'] } }, calls);
    const sd = createMachineTargets(() => [view]);
    await sd.targets();
    machines[0] = { key: 'local/a', state: 'idle' };
    const again = await sd.targets();
    expect(again[0]?.labels['__meta_flotilla_state']).toBe('idle');
    expect(calls).toEqual(['local/a']);
    machines.pop();
    expect(await sd.targets()).toEqual([]);
    machines.push({ key: 'local/a', state: 'creating' });
    await sd.targets();
    expect(calls).toEqual(['local/a', 'local/a']);
  });
});
