/**
 * Part 6: autoscaling policy, simulated. The committed workload (a seeded day of bursty arrivals,
 * bench/workloads/day-bursty.csv) runs through the same fleet simulation under GitLab
 * docker+machine's IdleCount/IdleTime semantics and under Flotilla's autoscaler policy, at the same
 * settings. Queue wait p50/p95 and machine-minutes (busy, idle, booting) over the day.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { simulateDockerMachine } from '../autoscale/docker-machine-sim.js';
import type { FleetSettings } from '../autoscale/fleet-settings.js';
import type { SimProviderSettings } from '../autoscale/sim-provider.js';
import { simulateTaskscaler, type FleetRun } from '../autoscale/taskscaler-sim.js';
import { fromCsv, generateWorkload, toCsv } from '../autoscale/workload.js';
import { WORKLOADS } from '../lib/paths.js';
import { result, type BenchResult } from '../lib/results.js';
import { percentile, ratio, round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

export const WORKLOAD_FILE = path.join(WORKLOADS, 'day-bursty.csv');
export const WORKLOAD_SEED = 7;

/** A cloud that misbehaves now and then: both fleets get the same one (same seed). */
export const PROVIDER: SimProviderSettings = {
  boot: { medianSeconds: 60, sigma: 0.3, minSeconds: 30, maxSeconds: 240 },
  neverReadyRatio: 0.02,
  createFailureRatio: 0.02,
  quota: 48,
  mutationsPerMinute: 30,
  listsPerMinute: 60,
  deleteSeconds: 30,
};
const MAX_MACHINES = 40;
/** The primary is out of capacity for an hour of the afternoon peak; a backup provider can serve. */
const OUTAGE = { fromSeconds: 14 * 3600, toSeconds: 15 * 3600 };

interface Scenario {
  idleCount: number;
  idleTimeSeconds: number;
  outage?: boolean;
}

const SCENARIOS: Scenario[] = [
  { idleCount: 0, idleTimeSeconds: 600 },
  { idleCount: 2, idleTimeSeconds: 600 },
  { idleCount: 5, idleTimeSeconds: 600 },
  { idleCount: 5, idleTimeSeconds: 1800 },
  { idleCount: 10, idleTimeSeconds: 1800 },
  { idleCount: 2, idleTimeSeconds: 600, outage: true },
];

function settingsFor(sc: Scenario): FleetSettings {
  return {
    idleCount: sc.idleCount,
    idleTimeSeconds: sc.idleTimeSeconds,
    maxMachines: MAX_MACHINES,
    checkIntervalSeconds: 3,
    readyTimeoutSeconds: 300,
    provider: sc.outage ? { ...PROVIDER, outages: [OUTAGE] } : PROVIDER,
    ...(sc.outage ? { backup: PROVIDER } : {}),
    seed: WORKLOAD_SEED,
  };
}

const scenarioLabel = (sc: Scenario): string =>
  sc.outage ? 'primary out of capacity 14:00–15:00; Flotilla has a backup provider' : 'normal day';

function figuresOf(r: FleetRun, wallSeconds: number) {
  return {
    wait_p50_s: round(percentile(r.waits, 50), 0),
    wait_p95_s: round(percentile(r.waits, 95), 0),
    wait_p99_s: round(percentile(r.waits, 99), 0),
    busy_machine_min: round(r.busyMinutes, 0),
    idle_machine_min: round(r.idleMinutes, 0),
    booting_machine_min: round(r.bootingMinutes, 0),
    total_machine_min: round(r.busyMinutes + r.idleMinutes + r.bootingMinutes, 0),
    jobs_run: r.waits.length,
    jobs_timed_out: r.timedOut,
    peak_machines: r.peakMachines,
    machines_created: r.provider.created,
    machines_never_ready: r.provider.neverReady,
    create_requests: r.provider.createRequests,
    rate_limited_calls: r.provider.rateLimited,
    quota_errors: r.provider.quotaErrors,
    api_errors: r.provider.apiErrors,
    outage_errors: r.provider.outageErrors,
    backup_machines_created: r.backup?.created ?? null,
    provider_errors_seen: Object.entries(r.providerErrors)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    simulation_wall_s: round(wallSeconds, 1),
  };
}

async function timed(run: () => Promise<FleetRun>): Promise<ReturnType<typeof figuresOf>> {
  const t0 = performance.now();
  const r = await run();
  return figuresOf(r, (performance.now() - t0) / 1000);
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
  const out: BenchResult[] = [];
  for (const sc of SCENARIOS) {
    const s = settingsFor(sc);
    const base = await timed(() => simulateDockerMachine(jobs, s));
    const ours = await timed(() => simulateTaskscaler(jobs, s));
    console.log(
      `  IdleCount ${s.idleCount}, IdleTime ${s.idleTimeSeconds} s, ${scenarioLabel(sc)}: docker+machine wait p50/p95 ${base.wait_p50_s}/${base.wait_p95_s} s, ${base.total_machine_min} machine-min; Flotilla taskscaler ${ours.wait_p50_s}/${ours.wait_p95_s} s, ${ours.total_machine_min} machine-min (${ours.rate_limited_calls} rate-limited calls, ${ours.machines_never_ready} never ready; simulated in ${ours.simulation_wall_s} s)`,
    );
    out.push(
      result(
        'autoscale',
        `autoscaling (simulated day), IdleCount ${s.idleCount}, IdleTime ${s.idleTimeSeconds} s, ${scenarioLabel(sc)}`,
        {
          scenario: scenarioLabel(sc),
          idleCount: s.idleCount,
          idleTimeSeconds: s.idleTimeSeconds,
          maxMachines: s.maxMachines,
          checkIntervalSeconds: s.checkIntervalSeconds,
          readyTimeoutSeconds: s.readyTimeoutSeconds,
          provider: s.provider,
          backupProvider: s.backup ?? null,
          workload: 'bench/workloads/day-bursty.csv',
          jobs: jobs.length,
          seed: WORKLOAD_SEED,
          capacityPerMachine: 1,
          tick: '1 s of simulated time per loop turn',
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
            'figures = the real taskscaler and provider group (src/autoscaler) on a simulated clock and provider; peer = the docker+machine model on the same clock, provider and workload',
            'idle machine-minutes include machines being deleted; machine-minutes count the 24 h day, waits every job',
          ],
        },
      ),
    );
  }
  return out;
}
