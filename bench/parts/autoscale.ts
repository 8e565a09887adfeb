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
import { dayCost, PRICES } from '../autoscale/prices.js';
import {
  flatRate,
  fromCsv,
  generateWorkload,
  spikyRate,
  toCsv,
  type WorkloadJob,
} from '../autoscale/workload.js';
import { ANNOUNCED_DEFAULT, announcedSetting, stagedDays } from './autoscale-staged.js';
import { actionsByHour, longWaitsByHour, withoutReadySlot } from '../autoscale/waits.js';
import { WORKLOADS } from '../lib/paths.js';
import { result, type BenchResult } from '../lib/results.js';
import { percentile, ratio, round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

export { actionsByHour, longWaitsByHour, withoutReadySlot };

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
export const MAX_MACHINES = 40;

/** The primary is out of capacity for an hour of the afternoon peak; a backup provider can serve. */
const OUTAGE = { fromSeconds: 14 * 3600, toSeconds: 15 * 3600 };

/** A provider whose machines take 3× as long to boot. */
const SLOW_PROVIDER: SimProviderSettings = {
  ...PROVIDER,
  boot: { medianSeconds: 180, sigma: 0.3, minSeconds: 90, maxSeconds: 720 },
};

/** docker+machine settings the baseline runs every day with (IdleCount, IdleTime s). */
export const BASELINE_SETTINGS: [number, number][] = [
  [0, 600],
  [2, 600],
  [5, 600],
  [5, 1800],
  [10, 1800],
];

/**
 * Flotilla's one setting for every day: the predictive pool (`[runners.autoscaler.predictive]`)
 * with its defaults but three opt-in keys (every job waiting for a boot is hedged,
 * `boot_hedge_over = "waiting"`; machines still booting beyond the kept slots go whenever no
 * job waits, `cancel_surplus_boots_at_once = true`; idle machines above the idle_count floor go
 * without idle_time while the pool kept is the floor, `remove_surplus_at_floor = true`; a slot is
 * held only if a burst reached it within the last 30 min, `last_use_within = "30m"`), above a floor of gitlab-runner's keys
 * (idle_count 3, idle_time 1 min), and the provider listed every second while machines boot or
 * jobs wait (`update_interval_when_expecting = "1s"`: a job waiting for a boot starts up to a
 * second sooner).
 */
export const FLOTILLA = {
  idleCount: 3,
  idleTimeSeconds: 60,
  listExpectingSeconds: 1,
  predictive: {
    enabled: true,
    boot_hedge_over: 'waiting' as const,
    cancel_surplus_boots_at_once: true,
    remove_surplus_at_floor: true,
    last_use_within: '30m',
  },
};

export interface Day {
  name: string;
  label: string;
  jobs: WorkloadJob[];
  /** The day before (a different seed, same shape), run through Flotilla's fleet first, unmeasured. */
  yesterday: WorkloadJob[];
  provider: SimProviderSettings;
  readyTimeoutSeconds: number;
  /** Flotilla only: a backup provider. */
  backup?: SimProviderSettings;
  seed: number;
  /** Days the target was set on (the others were not tuned on). */
  tuned: boolean;
  /** Staged pipelines (`stageWorkload`): Flotilla also runs with `announced_jobs`. */
  staged?: boolean;
}

export function days(normal: WorkloadJob[]): Day[] {
  const outage = { ...PROVIDER, outages: [OUTAGE] };
  const base = { provider: PROVIDER, readyTimeoutSeconds: 300 };
  return [
    {
      ...base,
      name: 'normal',
      label: 'normal day (seed 7)',
      jobs: normal,
      yesterday: generateWorkload(107),
      seed: 7,
      tuned: true,
    },
    {
      ...base,
      name: 'outage',
      label: 'primary out of capacity 14:00–15:00; Flotilla has a backup provider',
      jobs: normal,
      yesterday: generateWorkload(107),
      provider: outage,
      backup: PROVIDER,
      seed: 7,
      tuned: true,
    },
    {
      ...base,
      name: 'flat',
      label: 'flat day, 15.5 pipelines/h (seed 11)',
      jobs: generateWorkload(11, flatRate),
      yesterday: generateWorkload(111, flatRate),
      seed: 11,
      tuned: false,
    },
    {
      ...base,
      name: 'spiky',
      label: 'spiky day, 8 pipelines/h with ten 20-min 10× spikes (seed 13)',
      jobs: generateWorkload(13, spikyRate(13)),
      yesterday: generateWorkload(113, spikyRate(113)),
      seed: 13,
      tuned: false,
    },
    {
      name: 'slow',
      label: 'slow provider, boot 3× (median 180 s), normal shape (seed 17)',
      jobs: generateWorkload(17),
      yesterday: generateWorkload(117),
      provider: SLOW_PROVIDER,
      readyTimeoutSeconds: 900,
      seed: 17,
      tuned: false,
    },
  ];
}

export function settingsFor(day: Day, idleCount: number, idleTimeSeconds: number): FleetSettings {
  return {
    idleCount,
    idleTimeSeconds,
    maxMachines: MAX_MACHINES,
    checkIntervalSeconds: 3,
    readyTimeoutSeconds: day.readyTimeoutSeconds,
    provider: day.provider,
    seed: day.seed,
  };
}

function figuresOf(r: FleetRun, wallSeconds: number) {
  const money = dayCost(r.lifetimes);
  return {
    wait_p50_s: round(percentile(r.waits, 50), 0),
    wait_p95_s: round(percentile(r.waits, 95), 0),
    wait_p99_s: round(percentile(r.waits, 99), 0),
    wait_mean_s: round(r.waits.reduce((a, b) => a + b, 0) / Math.max(1, r.waits.length), 1),
    busy_machine_min: round(r.busyMinutes, 0),
    idle_machine_min: round(r.idleMinutes, 0),
    booting_machine_min: round(r.bootingMinutes, 0),
    total_machine_min: round(r.busyMinutes + r.idleMinutes + r.bootingMinutes, 0),
    ...Object.fromEntries(Object.entries(money).map(([k, v]) => [`usd_${k}`, round(v, 2)])),
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
    decisions: Object.entries(r.decisions ?? {})
      .filter(([, v]) => v > 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    /** Jobs that waited longer than 56 s (the normal day's best baseline p95), by arrival hour. */
    long_waits_by_hour: longWaitsByHour(r).join(' '),
    /** Machines created / removed per hour (Flotilla: every reason of flotilla_autoscaler_decisions_total). */
    created_by_hour: r.decisionsByHour ? actionsByHour(r.decisionsByHour, 'create').join(' ') : null,
    removed_by_hour: r.decisionsByHour ? actionsByHour(r.decisionsByHour, 'remove').join(' ') : null,
    /** Jobs that found no ready idle slot on arrival, and of those the ones that waited > 56 s. */
    jobs_without_ready_slot: r.noReadySlot ? withoutReadySlot(r, 56).join(' late ') : null,
    provider_errors_seen: Object.entries(r.providerErrors)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    simulation_wall_s: round(wallSeconds, 1),
  };
}

type Figs = ReturnType<typeof figuresOf>;

async function timed(run: () => Promise<FleetRun>): Promise<Figs> {
  const t0 = performance.now();
  const r = await run();
  return figuresOf(r, (performance.now() - t0) / 1000);
}

/** The baseline setting with the lowest p95 wait (fewer machine-minutes on a tie). */
function bestOf(rows: { figures: Figs }[]): number {
  let best = 0;
  rows.forEach((r, i) => {
    const b = rows[best]!.figures;
    const p = r.figures.wait_p95_s ?? Infinity;
    const q = b.wait_p95_s ?? Infinity;
    if (p < q || (p === q && r.figures.total_machine_min! < b.total_machine_min!)) best = i;
  });
  return best;
}

const MONEY = PRICES.map((p) => p.name);
const usd = (f: Figs, provider: string): number => Number((f as Record<string, unknown>)[`usd_${provider}`]);

function line(who: string, f: Figs): string {
  const money = MONEY.map((m) => `${m} $${usd(f, m)}`).join(', ');
  return `${who.padEnd(34)} wait p50/p95 ${f.wait_p50_s}/${f.wait_p95_s} s, ${f.total_machine_min} machine-min (busy ${f.busy_machine_min}, idle ${f.idle_machine_min}, boot ${f.booting_machine_min}); ${money}; created ${f.machines_created}`;
}

/** Prints one Flotilla run of a day against its best baseline. */
function report(
  who: string,
  ours: Figs,
  baselines: { idle: [number, number]; figures: Figs }[],
  day: Day,
): void {
  console.log(`  ${line(who, ours)}`);
  console.log(`     Flotilla decisions: ${ours.decisions}`);
  console.log(`     jobs waiting > 56 s by arrival hour, Flotilla: ${ours.long_waits_by_hour}`);
  console.log(`     machines created by hour, Flotilla: ${ours.created_by_hour}`);
  console.log(`     machines removed by hour, Flotilla: ${ours.removed_by_hour}`);
  console.log(
    `     jobs that found no ready idle slot on arrival, Flotilla: ${ours.jobs_without_ready_slot}`,
  );
  const best = bestOf(baselines);
  const b = baselines[best]!.figures;
  const saved = 1 - ours.total_machine_min! / b.total_machine_min!;
  const met = ours.wait_p95_s! <= b.wait_p95_s! && saved >= 0.3;
  console.log(
    `  => vs the best baseline (${baselines[best]!.idle.join('/')} s, p95 ${b.wait_p95_s} s): p95 ${ours.wait_p95_s} s, ${(saved * 100).toFixed(1)} % fewer machine-minutes, ${MONEY.map((m) => `${m} ${(100 * (1 - usd(ours, m) / usd(b, m))).toFixed(1)} %`).join(', ')} less money: target (p95 ≤ best, ≥ 30 % fewer machine-minutes) ${met ? 'MET' : 'NOT MET'}${day.tuned ? '' : ' (day not tuned on)'}`,
  );
}

/** Regenerates the committed workload file (`--regenerate-workload`). */
export async function writeWorkload(): Promise<void> {
  await writeFile(WORKLOAD_FILE, toCsv(generateWorkload(WORKLOAD_SEED)));
}

/** The days `--days` names (all when absent); an unknown name is an error. PURE. */
export function selectDays<T extends { name: string }>(all: readonly T[], names?: readonly string[]): T[] {
  if (!names) return [...all];
  const unknown = names.filter((n) => !all.some((d) => d.name === n));
  if (unknown.length > 0)
    throw new Error(`unknown day(s) ${unknown.join(', ')}; days: ${all.map((d) => d.name).join(', ')}`);
  return all.filter((d) => names.includes(d.name));
}

export async function runAutoscale(options: BenchOptions): Promise<BenchResult[]> {
  const text = await readFile(WORKLOAD_FILE, 'utf8');
  const jobs = fromCsv(text);
  const reproducible = toCsv(generateWorkload(WORKLOAD_SEED)) === text;
  console.log(
    `  normal workload: ${jobs.length} jobs, seed ${WORKLOAD_SEED}, file ${reproducible ? 'matches' : 'DIFFERS FROM'} the generator; Flotilla: predictive pool (boot_hedge_over ${FLOTILLA.predictive.boot_hedge_over}, cancel_surplus_boots_at_once ${FLOTILLA.predictive.cancel_surplus_boots_at_once}, remove_surplus_at_floor ${FLOTILLA.predictive.remove_surplus_at_floor}, last_use_within ${FLOTILLA.predictive.last_use_within}), idle_count ${FLOTILLA.idleCount}, idle_time ${FLOTILLA.idleTimeSeconds} s, update_interval_when_expecting ${FLOTILLA.listExpectingSeconds} s`,
  );
  const out: BenchResult[] = [];
  const offset = options.providerSeedOffset ?? 0;
  if (offset !== 0) console.log(`  simulated clouds seeded with each day's seed + ${offset}`);
  const all = options.days ? [...days(jobs), ...stagedDays(days(jobs))] : days(jobs);
  const chosen = selectDays(all, options.days).map((d) => ({ ...d, seed: d.seed + offset }));
  for (const day of chosen) {
    const busy = day.jobs.reduce((a, j) => a + j.duration, 0) / 60;
    console.log(
      `  -- ${day.label}: ${day.jobs.length} jobs, ${new Set(day.jobs.map((j) => j.pipeline)).size} pipelines, ${busy.toFixed(0)} job-minutes`,
    );
    const baselines: { idle: [number, number]; figures: Figs }[] = [];
    for (const [idleCount, idleTime] of BASELINE_SETTINGS) {
      const figures = await timed(() =>
        simulateDockerMachine(day.jobs, settingsFor(day, idleCount, idleTime)),
      );
      baselines.push({ idle: [idleCount, idleTime], figures });
      console.log(`  ${line(`docker+machine ${idleCount}/${idleTime} s`, figures)}`);
    }
    let waits: number[] = [];
    const flotilla = (predictive: FleetSettings['predictive'], markAnnounced = false): Promise<Figs> =>
      timed(async () => {
        const run = await simulateTaskscaler(day.jobs, {
          ...settingsFor(day, FLOTILLA.idleCount, FLOTILLA.idleTimeSeconds),
          predictive,
          listExpectingSeconds: FLOTILLA.listExpectingSeconds,
          yesterday: day.yesterday,
          ...(day.backup ? { backup: day.backup } : {}),
          ...(markAnnounced ? { markAnnounced } : {}),
        });
        waits = run.waits;
        return run;
      });
    const ours = await flotilla(FLOTILLA.predictive);
    report('Flotilla predictive', ours, baselines, day);
    const best = bestOf(baselines);
    const late = (): string =>
      `     late (waited > the best baseline's p95): ${waits.filter((w) => w > baselines[best]!.figures.wait_p95_s!).length} of ${waits.length}`;
    if (day.staged) {
      console.log(late());
      const mode = options.announced ?? ANNOUNCED_DEFAULT;
      const told = await flotilla({ ...FLOTILLA.predictive, ...announcedSetting(mode) }, true);
      report(`Flotilla + announced_jobs ${mode}${mode === 'due' ? ' (reserve)' : ''}`, told, baselines, day);
      console.log(late());
    }
    baselines.forEach((row, i) =>
      out.push(
        result(
          'autoscale',
          `autoscaling (simulated day), ${day.name}, docker+machine ${row.idle[0]}/${row.idle[1]} s vs Flotilla predictive`,
          {
            day: day.name,
            scenario: day.label,
            idleCount: row.idle[0],
            idleTimeSeconds: row.idle[1],
            bestBaseline: i === best,
            tunedOn: day.tuned,
            flotilla: FLOTILLA,
            maxMachines: MAX_MACHINES,
            readyTimeoutSeconds: day.readyTimeoutSeconds,
            provider: day.provider,
            backupProvider: day.backup ?? null,
            jobs: day.jobs.length,
            seed: day.seed,
            prices: PRICES,
            capacityPerMachine: 1,
            tick: '1 s of simulated time per loop turn',
          },
          ours,
          {
            peer: { name: 'docker+machine IdleCount/IdleTime (baseline, simulated)', figures: row.figures },
            ratio: {
              wait_p50_s: ratio(ours.wait_p50_s, row.figures.wait_p50_s),
              wait_p95_s: ratio(ours.wait_p95_s, row.figures.wait_p95_s),
              total_machine_min: ratio(ours.total_machine_min, row.figures.total_machine_min),
              idle_machine_min: ratio(ours.idle_machine_min, row.figures.idle_machine_min),
              ...Object.fromEntries(MONEY.map((m) => [`usd_${m}`, ratio(usd(ours, m), usd(row.figures, m))])),
            },
            notes: [
              'figures = Flotilla: the real taskscaler, predictive policy and provider group (src/autoscaler) on a simulated clock and provider, after an unmeasured day before; peer = the docker+machine model on the same clock, provider and workload',
              'machine-minutes count the 24 h day (idle includes machines being deleted); money bills each machine for its life in the day with the provider rules of bench/autoscale/prices.ts',
            ],
          },
        ),
      ),
    );
  }
  return out;
}
