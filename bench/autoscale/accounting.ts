/**
 * What a simulated day costs and how long jobs waited: machine-seconds sampled every simulated
 * second from the provider's own view (what the cloud bills), split into booting, busy (a job
 * holds the machine) and idle (ready without a job, or being deleted); and each job's queue wait.
 */
import type { SimMachineView } from './sim-provider.js';

export interface SimResult {
  waits: number[];
  /** Arrival second of each job of `waits`, same order. */
  arrivals: number[];
  busyMinutes: number;
  idleMinutes: number;
  bootingMinutes: number;
  /** Seconds each machine existed (billed) during the day, one entry per machine. */
  lifetimes: number[];
  /** Idle machine-minutes by hour of the day. */
  idleByHour: number[];
  /** Jobs that got no machine within instance_acquire_timeout (they fail). */
  timedOut: number;
  peakMachines: number;
}

export interface Accounting {
  sample(machines: readonly SimMachineView[], busy: ReadonlySet<string>, atSeconds: number): void;
  wait(seconds: number, arrival: number): void;
  timeout(): void;
  result(): SimResult;
}

export function createAccounting(): Accounting {
  const alive = new Map<string, number>();
  const r: SimResult = {
    waits: [],
    arrivals: [],
    busyMinutes: 0,
    idleMinutes: 0,
    bootingMinutes: 0,
    lifetimes: [],
    idleByHour: new Array<number>(24).fill(0),
    timedOut: 0,
    peakMachines: 0,
  };
  return {
    sample(machines, busy, atSeconds) {
      const hour = Math.floor(atSeconds / 3600) % 24;
      r.peakMachines = Math.max(r.peakMachines, machines.length);
      for (const m of machines) {
        alive.set(m.id, (alive.get(m.id) ?? 0) + 1);
        if (m.phase === 'booting') r.bootingMinutes += 1 / 60;
        else if (busy.has(m.id)) r.busyMinutes += 1 / 60;
        else {
          r.idleMinutes += 1 / 60;
          r.idleByHour[hour] = (r.idleByHour[hour] ?? 0) + 1 / 60;
        }
      }
    },
    wait(seconds, arrival) {
      r.waits.push(seconds);
      r.arrivals.push(arrival);
    },
    timeout: () => void r.timedOut++,
    result: () => ({
      ...r,
      waits: [...r.waits],
      arrivals: [...r.arrivals],
      idleByHour: [...r.idleByHour],
      lifetimes: [...alive.values()],
    }),
  };
}
