/**
 * What a simulated day costs and how long jobs waited: machine-seconds sampled every simulated
 * second from the provider's own view (what the cloud bills), split into booting, busy (a job
 * holds the machine) and idle (ready without a job, or being deleted); and each job's queue wait.
 */
import type { SimMachineView } from './sim-provider.js';

export interface SimResult {
  waits: number[];
  busyMinutes: number;
  idleMinutes: number;
  bootingMinutes: number;
  /** Jobs that got no machine within instance_acquire_timeout (they fail). */
  timedOut: number;
  peakMachines: number;
}

export interface Accounting {
  sample(machines: readonly SimMachineView[], busy: ReadonlySet<string>): void;
  wait(seconds: number): void;
  timeout(): void;
  result(): SimResult;
}

export function createAccounting(): Accounting {
  const r: SimResult = {
    waits: [],
    busyMinutes: 0,
    idleMinutes: 0,
    bootingMinutes: 0,
    timedOut: 0,
    peakMachines: 0,
  };
  return {
    sample(machines, busy) {
      r.peakMachines = Math.max(r.peakMachines, machines.length);
      for (const m of machines) {
        if (m.phase === 'booting') r.bootingMinutes += 1 / 60;
        else if (busy.has(m.id)) r.busyMinutes += 1 / 60;
        else r.idleMinutes += 1 / 60;
      }
    },
    wait: (seconds) => void r.waits.push(seconds),
    timeout: () => void r.timedOut++,
    result: () => ({ ...r, waits: [...r.waits] }),
  };
}
