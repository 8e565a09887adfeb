/**
 * A simulated fleet on a simulated clock (1 s ticks): machines boot, take one job each, go idle,
 * and are removed, as a scaling policy decides. Jobs queue FIFO and are handed to idle machines
 * every check interval. Pure and deterministic: same workload and policy, same figures.
 */
import type { WorkloadJob } from './workload.js';

export interface SimMachine {
  id: number;
  state: 'creating' | 'idle' | 'busy';
  createdAt: number;
  readyAt: number;
  idleSince: number;
  busyUntil: number;
}

export interface SimView {
  now: number;
  machines: readonly SimMachine[];
  waiting: number;
}

export interface ScalingPolicy {
  name: string;
  /** Machines to create now and ids of idle machines to remove now. */
  decide(view: SimView): { create: number; remove: number[] };
}

export interface SimSettings {
  bootSeconds: number;
  checkIntervalSeconds: number;
  maxMachines: number;
}

export interface SimResult {
  waits: number[];
  busyMinutes: number;
  idleMinutes: number;
  bootingMinutes: number;
  created: number;
  peakMachines: number;
}

export function simulate(jobs: readonly WorkloadJob[], policy: ScalingPolicy, s: SimSettings): SimResult {
  // Machine-minutes count over the simulated day; the clock runs on until the queue is empty.
  const day = 86_400;
  const end = day + 4 * 3600;
  const queue: WorkloadJob[] = [];
  let machines: SimMachine[] = [];
  const out: SimResult = {
    waits: [],
    busyMinutes: 0,
    idleMinutes: 0,
    bootingMinutes: 0,
    created: 0,
    peakMachines: 0,
  };
  let next = 0;
  let nextId = 1;
  for (let now = 0; now < end; now++) {
    while (next < jobs.length && (jobs[next]?.arrival ?? Infinity) <= now) queue.push(jobs[next++]!);
    for (const m of machines) {
      if (m.state === 'creating' && m.readyAt <= now) Object.assign(m, { state: 'idle', idleSince: now });
      if (m.state === 'busy' && m.busyUntil <= now) Object.assign(m, { state: 'idle', idleSince: now });
    }
    if (now % s.checkIntervalSeconds === 0) {
      // Newest idle machine first, as docker+machine's Acquire picks them.
      const idle = machines.filter((m) => m.state === 'idle').sort((a, b) => b.createdAt - a.createdAt);
      while (queue.length > 0 && idle.length > 0) {
        const job = queue.shift()!;
        const m = idle.shift()!;
        Object.assign(m, { state: 'busy', busyUntil: now + job.duration });
        out.waits.push(now - job.arrival);
      }
      const decision = policy.decide({ now, machines, waiting: queue.length });
      const remove = new Set(decision.remove);
      machines = machines.filter((m) => !(remove.has(m.id) && m.state === 'idle'));
      const room = Math.max(0, s.maxMachines - machines.length);
      for (let i = 0; i < Math.min(room, decision.create); i++) {
        machines.push({
          id: nextId++,
          state: 'creating',
          createdAt: now,
          readyAt: now + s.bootSeconds,
          idleSince: now,
          busyUntil: 0,
        });
        out.created++;
      }
    }
    out.peakMachines = Math.max(out.peakMachines, machines.length);
    if (now >= day) {
      if (next >= jobs.length && queue.length === 0) break;
      continue;
    }
    for (const m of machines) {
      if (m.state === 'busy') out.busyMinutes += 1 / 60;
      else if (m.state === 'idle') out.idleMinutes += 1 / 60;
      else out.bootingMinutes += 1 / 60;
    }
  }
  return out;
}
