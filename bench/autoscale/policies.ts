/**
 * The scaling policies the simulation compares:
 * - docker+machine's IdleCount/IdleTime (the legacy GitLab Runner baseline): keep IdleCount
 *   machines available (idle + creating), create nothing beyond that for waiting jobs unless
 *   IdleCount is 0 (then one machine per waiting job, on demand); remove a machine idle longer than
 *   IdleTime while more than IdleCount are available.
 * - Flotilla's autoscaler policy (src/autoscaler/policy.ts), fed the same snapshots.
 */
import {
  instancesToCreate,
  instancesToRemove,
  type ActivePolicy,
  type IdleCandidate,
  type Limits,
} from '../../src/autoscaler/policy.js';
import type { ScalingPolicy, SimView } from './fleet-sim.js';

export interface IdleSettings {
  idleCount: number;
  idleTimeSeconds: number;
  maxMachines: number;
}

export function dockerMachinePolicy(s: IdleSettings): ScalingPolicy {
  return {
    name: 'docker+machine IdleCount/IdleTime',
    decide(view: SimView) {
      const idle = view.machines.filter((m) => m.state === 'idle');
      const creating = view.machines.filter((m) => m.state === 'creating').length;
      let available = idle.length + creating;
      const remove: number[] = [];
      for (const m of [...idle].sort((a, b) => a.idleSince - b.idleSince)) {
        if (view.now - m.idleSince > s.idleTimeSeconds && available > s.idleCount) {
          remove.push(m.id);
          available--;
        }
      }
      const total = view.machines.length - remove.length;
      const onDemand = s.idleCount === 0 ? Math.max(0, view.waiting - creating) : 0;
      const toIdle = Math.max(0, s.idleCount - available);
      return { create: Math.min(Math.max(onDemand, toIdle), Math.max(0, s.maxMachines - total)), remove };
    },
  };
}

export function flotillaPolicy(s: IdleSettings): ScalingPolicy {
  const policy: ActivePolicy = {
    idleCount: s.idleCount,
    idleTimeMs: s.idleTimeSeconds * 1000,
    scaleFactor: 0,
    scaleFactorLimit: 0,
  };
  const limits: Limits = { capacityPerInstance: 1, maxUseCount: 0, maxInstances: s.maxMachines };
  return {
    name: 'Flotilla autoscaler policy (src/autoscaler/policy.ts)',
    decide(view: SimView) {
      const idle = view.machines.filter((m) => m.state === 'idle');
      const snapshot = {
        inUse: view.machines.filter((m) => m.state === 'busy').length,
        waiting: view.waiting,
        free: idle.length,
        creating: view.machines.filter((m) => m.state === 'creating').length,
        total: view.machines.length,
      };
      const candidates: IdleCandidate[] = view.machines
        .filter((m) => m.state !== 'creating')
        .map((m) => ({
          key: String(m.id),
          idleSinceMs: m.idleSince * 1000,
          createdAtMs: m.createdAt * 1000,
          free: m.state === 'idle' ? 1 : 0,
          busy: m.state === 'busy' ? 1 : 0,
          usedUp: false,
        }));
      const remove = instancesToRemove(candidates, snapshot, policy, view.now * 1000).map(Number);
      return { create: instancesToCreate(snapshot, policy, limits), remove };
    },
  };
}
