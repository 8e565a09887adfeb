/**
 * Issue 16's bound: the autoscale part's days run through Flotilla's simulated fleet (the real
 * taskscaler) with a clairvoyant idle pool (bench/autoscale/clairvoyant.ts: it knows the day's
 * arrivals) at several leads, against the best docker+machine baseline of the same day and cloud
 * seed. One line per run: p95 wait, jobs past the baseline's p95 (late), machine-minutes, % fewer.
 * Prints only; nothing is saved.
 * `npm run bench:clairvoyant -- [--days slow,normal] [--offsets 0,1,2,3]
 * [--leads 0,60,120] [--flotilla] [--blind-durations]` (`--flotilla`: Flotilla's own setting too,
 * for comparison; `--blind-durations`: the pool knows when jobs arrive but not how long any job
 * runs, so it counts no machine freed within the lead; `--rate-oracle [--windows 60,180]
 * [--quantiles 0.5,0.9]`: the rate-oracle pool of bench/autoscale/rate-oracle.ts instead;
 * `--oracle-floor 120:0.9`: each clairvoyant pool at least the rate oracle's with that window and
 * quantile).
 */
import { readFile } from 'node:fs/promises';

import { createClairvoyant } from './autoscale/clairvoyant.js';
import { simulateDockerMachine } from './autoscale/docker-machine-sim.js';
import { simulateTaskscaler, type FleetRun } from './autoscale/taskscaler-sim.js';
import { createRateOracle } from './autoscale/rate-oracle.js';
import { flatRate, fromCsv, pipelineRate, spikyRate } from './autoscale/workload.js';
import { percentile } from './lib/stats.js';
import {
  BASELINE_SETTINGS,
  days,
  FLOTILLA,
  longWaitsByHour,
  MAX_MACHINES,
  selectDays,
  settingsFor,
  WORKLOAD_FILE,
  type Day,
} from './parts/autoscale.js';

interface Row {
  p95: number;
  late: number;
  lateByHour: number[];
  minutes: number;
  run: FleetRun;
}

function rowOf(run: FleetRun, limit: number): Row {
  return {
    p95: percentile(run.waits, 95) ?? Infinity,
    late: run.waits.filter((w) => w > limit).length,
    lateByHour: longWaitsByHour(run, limit),
    minutes: run.busyMinutes + run.idleMinutes + run.bootingMinutes,
    run,
  };
}

function listArg(name: string, fallback: string): string[] {
  const i = process.argv.indexOf(name);
  return (i >= 0 ? (process.argv[i + 1] ?? '') : fallback).split(',').map((x) => x.trim());
}

/** `name`'s comma-separated numbers; each must satisfy `ok`, else an error says which and what is right. */
function numbersArg(name: string, fallback: string, ok: (n: number) => boolean, right: string): number[] {
  return listArg(name, fallback).map((text) => {
    const n = Number(text);
    if (text === '' || !Number.isFinite(n) || !ok(n)) {
      throw new Error(`${name}: "${text}" is not ${right} (e.g. ${name} ${fallback})`);
    }
    return n;
  });
}

const seconds = (name: string, fallback: string): number[] =>
  numbersArg(name, fallback, (n) => n >= 0, 'a number of seconds ≥ 0');
const quantiles = (fallback: string): number[] =>
  numbersArg('--quantiles', fallback, (n) => n > 0 && n < 1, 'a quantile between 0 and 1');

/** `--oracle-floor W:q`: the rate oracle's window (s) and quantile, checked as `--windows` / `--quantiles` are. */
function oracleFloor(text: string | undefined): { w: number; q: number } {
  const [w, q, ...rest] = (text ?? '').split(':').map(Number);
  const valid = rest.length === 0 && w !== undefined && w >= 0 && q !== undefined && q > 0 && q < 1;
  if (!valid)
    throw new Error(`--oracle-floor: "${text ?? ''}" is not WINDOW:QUANTILE (e.g. --oracle-floor 120:0.9)`);
  return { w, q };
}

/** The baseline setting with the lowest p95 (fewer machine-minutes on a tie), as the part picks it. */
async function bestBaseline(day: Day): Promise<{ setting: string; row: Row }> {
  let best: { setting: string; row: Row } | null = null;
  for (const [count, time] of BASELINE_SETTINGS) {
    const row = rowOf(await simulateDockerMachine(day.jobs, settingsFor(day, count, time)), Infinity);
    const better =
      !best || row.p95 < best.row.p95 || (row.p95 === best.row.p95 && row.minutes < best.row.minutes);
    if (better) best = { setting: `${count}/${time}`, row };
  }
  return best!;
}

function line(who: string, r: Row, base: Row, allowed: number): string {
  const fewer = 100 * (1 - r.minutes / base.minutes);
  const met = r.p95 <= base.p95 && fewer >= 30 ? 'MET' : r.p95 <= base.p95 ? 'p95 only' : 'no';
  const f = r.run;
  return [
    who.padEnd(22),
    `p95 ${r.p95} / ${base.p95} s`,
    `late ${r.late} (${allowed})`,
    `${Math.round(r.minutes)} machine-min (busy ${Math.round(f.busyMinutes)}, idle ${Math.round(f.idleMinutes)}, boot ${Math.round(f.bootingMinutes)})`,
    `${fewer.toFixed(1)} % fewer`,
    `created ${f.provider.created}`,
    `timed out ${f.timedOut}`,
    met,
    `idle by hour ${f.idleByHour.map((m) => Math.round(m)).join(' ')}`,
    `late by hour ${r.lateByHour.join(' ')}`,
  ].join(' | ');
}

type Pool = (t: number, busyUntil: readonly number[]) => number;

/** The true pipeline rate of a day's workload (the spiky day's spikes are its workload seed's). */
const RATES: Record<string, (h: number) => number> = {
  normal: pipelineRate,
  outage: pipelineRate,
  slow: pipelineRate,
  flat: flatRate,
  spiky: spikyRate(13),
};

interface PoolOptions {
  rateOracle: boolean;
  windows: number[];
  quantiles: number[];
  leads: number[];
  blind: boolean;
  floor: { w: number; q: number } | null;
}

/** The command line's pool options, checked before any day is simulated. */
function poolOptions(): PoolOptions {
  const floor = process.argv.indexOf('--oracle-floor');
  return {
    rateOracle: process.argv.includes('--rate-oracle'),
    windows: seconds('--windows', '60,180'),
    quantiles: quantiles('0.5,0.8,0.9,0.95,0.99'),
    leads: seconds('--leads', '0,60,120,180,240,300,360'),
    blind: process.argv.includes('--blind-durations'),
    floor: floor < 0 ? null : oracleFloor(process.argv[floor + 1]),
  };
}

/** The pools asked for, by name: clairvoyant leads, or the rate oracle's windows × quantiles. */
function pools(day: Day, o: PoolOptions): [string, Pool][] {
  const rate = RATES[day.name] ?? pipelineRate;
  if (o.rateOracle) {
    return o.windows.flatMap((w) =>
      o.quantiles.map((q): [string, Pool] => [
        `oracle ${w} s q ${q}`,
        createRateOracle({ rate, window: w, q, cap: MAX_MACHINES }),
      ]),
    );
  }
  const leads = o.leads.map((lead): [string, Pool] => {
    if (!o.blind) return [`lead ${lead} s`, createClairvoyant(day.jobs, lead)];
    const at = createClairvoyant(
      day.jobs.map((j) => ({ arrival: j.arrival, duration: Infinity })),
      lead,
    );
    return [`lead ${lead} s blind`, (t) => at(t, [])];
  });
  if (!o.floor) return leads;
  // `--oracle-floor W:q`: the larger of the clairvoyant's pool and the rate oracle's (short foresight backed by a forecast).
  const { w, q } = o.floor;
  const oracle = createRateOracle({ rate, window: w, q, cap: MAX_MACHINES });
  return leads.map(([name, pool]): [string, Pool] => [
    `${name} + oracle ${w} s q ${q}`,
    (t, busy) => Math.max(pool(t, busy), oracle(t, busy)),
  ]);
}

async function main(): Promise<void> {
  const normal = fromCsv(await readFile(WORKLOAD_FILE, 'utf8'));
  const chosen = selectDays(days(normal), listArg('--days', 'slow,normal'));
  const offsets = numbersArg(
    '--offsets',
    '0,1,2,3',
    (n) => Number.isInteger(n) && n >= 0,
    'a whole number ≥ 0',
  );
  const options = poolOptions();
  for (const d of chosen)
    for (const offset of offsets) {
      const day = { ...d, seed: d.seed + offset };
      const base = await bestBaseline(day);
      const limit = base.row.p95;
      const allowed = Math.floor(day.jobs.length * 0.05);
      const tag = `${day.name} +${offset}`;
      console.log(line(`${tag} baseline ${base.setting}`, rowOf(base.row.run, limit), base.row, allowed));
      if (process.argv.includes('--flotilla')) {
        const ours = await simulateTaskscaler(day.jobs, {
          ...settingsFor(day, FLOTILLA.idleCount, FLOTILLA.idleTimeSeconds),
          predictive: FLOTILLA.predictive,
          listExpectingSeconds: FLOTILLA.listExpectingSeconds,
          yesterday: day.yesterday,
          ...(day.backup ? { backup: day.backup } : {}),
        });
        console.log(line(`${tag} Flotilla`, rowOf(ours, limit), base.row, allowed));
      }
      for (const [name, pool] of pools(day, options)) {
        const run = await simulateTaskscaler(day.jobs, {
          ...settingsFor(day, 0, 0),
          listExpectingSeconds: FLOTILLA.listExpectingSeconds,
          idleSlotsAt: pool,
          ...(day.backup ? { backup: day.backup } : {}),
        });
        console.log(line(`${tag} ${name}`, rowOf(run, limit), base.row, allowed));
      }
    }
}

main().catch((err: unknown) => {
  console.error(`bench:clairvoyant: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
});
