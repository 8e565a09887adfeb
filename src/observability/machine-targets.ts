/**
 * The autoscaled machines' exporters as Prometheus HTTP SD target groups, served by the runner
 * manager next to itself (`/-/discovery/targets`). One group per live machine (every state but
 * `removing`), with `__meta_flotilla_*` labels: component `machine`, `provider`, `zone` (when the
 * provider has zones), `runner` (the entry's short token), `runner_name`, `state` (the
 * `fleeting_taskscaler_instances` state: creating, idle, acquired, used) and `instance_id`.
 *
 * A machine's exporter addresses come from its provider's `connectInfo` (`metricsTargets`), asked
 * once per machine and remembered until the machine is gone: the address of a machine never changes.
 */
import { cleanLabels, type TargetGroup } from './http-sd.js';

export interface FleetMachine {
  /** `provider/instance id`, as the taskscaler keys machines. */
  key: string;
  state: string;
}

export interface MachineEndpoints {
  metricsTargets?: string[];
  zone?: string;
}

/** What the discovery needs of one `[[runners]]` entry's fleet. */
export interface FleetView {
  /** Short token of the entry (gitlab-runner's `runner` label). */
  runner: string;
  runnerName: string;
  machines(): readonly FleetMachine[];
  connectInfo(key: string): Promise<MachineEndpoints>;
}

export interface MachineTargets {
  targets(): Promise<TargetGroup[]>;
}

function splitMachineKey(key: string): { provider: string; id: string } {
  const i = key.indexOf('/');
  return i < 0 ? { provider: '', id: key } : { provider: key.slice(0, i), id: key.slice(i + 1) };
}

export function createMachineTargets(fleets: () => readonly FleetView[]): MachineTargets {
  const known = new Map<string, MachineEndpoints>();

  async function endpoints(fleet: FleetView, key: string): Promise<MachineEndpoints | null> {
    const cached = known.get(`${fleet.runner}|${key}`);
    if (cached) return cached;
    try {
      const info = await fleet.connectInfo(key);
      const value: MachineEndpoints = {
        ...(info.metricsTargets ? { metricsTargets: [...info.metricsTargets] } : {}),
        ...(info.zone ? { zone: info.zone } : {}),
      };
      known.set(`${fleet.runner}|${key}`, value);
      return value;
    } catch {
      return null;
    }
  }

  async function fleetTargets(fleet: FleetView, live: Set<string>): Promise<TargetGroup[]> {
    const machines = fleet.machines().filter((m) => m.state !== 'removing');
    const groups = await Promise.all(
      machines.map(async (m): Promise<TargetGroup | null> => {
        live.add(`${fleet.runner}|${m.key}`);
        const info = await endpoints(fleet, m.key);
        if (!info?.metricsTargets || info.metricsTargets.length === 0) return null;
        const { provider, id } = splitMachineKey(m.key);
        return {
          targets: info.metricsTargets,
          labels: cleanLabels({
            __meta_flotilla_component: 'machine',
            __meta_flotilla_provider: provider,
            __meta_flotilla_zone: info.zone,
            __meta_flotilla_runner: fleet.runner,
            __meta_flotilla_runner_name: fleet.runnerName,
            __meta_flotilla_state: m.state,
            __meta_flotilla_instance_id: id,
          }),
        };
      }),
    );
    return groups.filter((g): g is TargetGroup => g !== null);
  }

  return {
    async targets() {
      const live = new Set<string>();
      const groups = (await Promise.all(fleets().map((f) => fleetTargets(f, live)))).flat();
      for (const key of known.keys()) if (!live.has(key)) known.delete(key);
      return groups.sort((a, b) => (a.targets[0] ?? '').localeCompare(b.targets[0] ?? ''));
    },
  };
}
