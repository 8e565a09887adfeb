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

/** The pools the command line asks for, by name: clairvoyant leads, or the rate oracle's windows × quantiles. */
function pools(day: Day): [string, Pool][] {
  if (process.argv.includes('--rate-oracle')) {
    const rate = RATES[day.name] ?? pipelineRate;
    return listArg('--windows', '60,180').flatMap((w) =>
      listArg('--quantiles', '0.5,0.8,0.9,0.95,0.99').map((q): [string, Pool] => [
        `oracle ${w} s q ${q}`,
        createRateOracle({ rate, window: Number(w), q: Number(q), cap: MAX_MACHINES }),
      ]),
    );
  }
  const blind = process.argv.includes('--blind-durations');
  const leads = listArg('--leads', '0,60,120,180,240,300,360').map((lead): [string, Pool] => {
    if (!blind) return [`lead ${lead} s`, createClairvoyant(day.jobs, Number(lead))];
    const at = createClairvoyant(
      day.jobs.map((j) => ({ arrival: j.arrival, duration: Infinity })),
      Number(lead),
    );
    return [`lead ${lead} s blind`, (t) => at(t, [])];
  });
  const floor = process.argv.indexOf('--oracle-floor');
  if (floor < 0) return leads;
  // `--oracle-floor W:q`: the larger of the clairvoyant's pool and the rate oracle's (short foresight backed by a forecast).
  const [w, q] = (process.argv[floor + 1] ?? '').split(':').map(Number);
  const oracle = createRateOracle({
    rate: RATES[day.name] ?? pipelineRate,
    window: w ?? 0,
    q: q ?? 0,
    cap: MAX_MACHINES,
  });
  return leads.map(([name, pool]): [string, Pool] => [
    `${name} + oracle ${w} s q ${q}`,
    (t, busy) => Math.max(pool(t, busy), oracle(t, busy)),
  ]);
}

async function main(): Promise<void> {
  const normal = fromCsv(await readFile(WORKLOAD_FILE, 'utf8'));
  const chosen = selectDays(days(normal), listArg('--days', 'slow,normal'));
  const offsets = listArg('--offsets', '0,1,2,3').map(Number);
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
      for (const [name, pool] of pools(day)) {
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

void main();
