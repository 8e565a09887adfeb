/**
 * Part 6: autoscaling policy, simulated. The committed workload (a seeded day of bursty arrivals,
 * bench/workloads/day-bursty.csv) runs through the same fleet simulation under GitLab
 * docker+machine's IdleCount/IdleTime semantics and under Flotilla's autoscaler policy, at the same
 * settings. Queue wait p50/p95 and machine-minutes (busy, idle, booting) over the day.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { simulate, type SimSettings } from '../autoscale/fleet-sim.js';
import { dockerMachinePolicy, flotillaPolicy, type IdleSettings } from '../autoscale/policies.js';
import { fromCsv, generateWorkload, toCsv } from '../autoscale/workload.js';
import { WORKLOADS } from '../lib/paths.js';
import { result, type BenchResult } from '../lib/results.js';
import { percentile, ratio, round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

export const WORKLOAD_FILE = path.join(WORKLOADS, 'day-bursty.csv');
export const WORKLOAD_SEED = 7;

const SIM: SimSettings = { bootSeconds: 60, checkIntervalSeconds: 3, maxMachines: 40 };
const SETTINGS: IdleSettings[] = [
  { idleCount: 0, idleTimeSeconds: 600, maxMachines: SIM.maxMachines },
  { idleCount: 2, idleTimeSeconds: 600, maxMachines: SIM.maxMachines },
  { idleCount: 5, idleTimeSeconds: 600, maxMachines: SIM.maxMachines },
  { idleCount: 5, idleTimeSeconds: 1800, maxMachines: SIM.maxMachines },
  { idleCount: 10, idleTimeSeconds: 1800, maxMachines: SIM.maxMachines },
];

function figuresOf(r: ReturnType<typeof simulate>) {
  return {
    wait_p50_s: round(percentile(r.waits, 50), 0),
    wait_p95_s: round(percentile(r.waits, 95), 0),
    wait_p99_s: round(percentile(r.waits, 99), 0),
    busy_machine_min: round(r.busyMinutes, 0),
    idle_machine_min: round(r.idleMinutes, 0),
    booting_machine_min: round(r.bootingMinutes, 0),
    total_machine_min: round(r.busyMinutes + r.idleMinutes + r.bootingMinutes, 0),
    machines_created: r.created,
    peak_machines: r.peakMachines,
  };
}

/** Regenerates the committed workload file (`--regenerate-workload`). */
export async function writeWorkload(): Promise<void> {
  await writeFile(WORKLOAD_FILE, toCsv(generateWorkload(WORKLOAD_SEED)));
}

export async function runAutoscale(_options: BenchOptions): Promise<BenchResult[]> {
  const text = await readFile(WORKLOAD_FILE, 'utf8');
  const jobs = fromCsv(text);
  const reproducible = toCsv(generateWorkload(WORKLOAD_SEED)) === text;
  const busyTotal = jobs.reduce((a, j) => a + j.duration, 0) / 60;
  console.log(
    `  workload: ${jobs.length} jobs in ${new Set(jobs.map((j) => j.pipeline)).size} pipelines, ${busyTotal.toFixed(0)} job-minutes (seed ${WORKLOAD_SEED}, file ${reproducible ? 'matches' : 'DIFFERS FROM'} the generator)`,
  );
  return SETTINGS.map((s) => {
    const base = figuresOf(simulate(jobs, dockerMachinePolicy(s), SIM));
    const ours = figuresOf(simulate(jobs, flotillaPolicy(s), SIM));
    console.log(
      `  IdleCount ${s.idleCount}, IdleTime ${s.idleTimeSeconds} s: docker+machine wait p50/p95 ${base.wait_p50_s}/${base.wait_p95_s} s, ${base.total_machine_min} machine-min; Flotilla ${ours.wait_p50_s}/${ours.wait_p95_s} s, ${ours.total_machine_min} machine-min`,
    );
    return result(
      'autoscale',
      `autoscaling (simulated day), IdleCount ${s.idleCount}, IdleTime ${s.idleTimeSeconds} s`,
      {
        ...s,
        ...SIM,
        workload: 'bench/workloads/day-bursty.csv',
        jobs: jobs.length,
        seed: WORKLOAD_SEED,
        capacityPerMachine: 1,
      },
      ours,
      {
        peer: { name: 'docker+machine IdleCount/IdleTime (baseline, simulated)', figures: base },
        ratio: {
          wait_p50_s: ratio(ours.wait_p50_s, base.wait_p50_s),
          wait_p95_s: ratio(ours.wait_p95_s, base.wait_p95_s),
          total_machine_min: ratio(ours.total_machine_min, base.total_machine_min),
          idle_machine_min: ratio(ours.idle_machine_min, base.idle_machine_min),
        },
        notes: [
          'figures = Flotilla policy (src/autoscaler/policy.ts) driven by the simulation; peer = the docker+machine baseline on the same clock and workload',
        ],
      },
    );
  });
}
