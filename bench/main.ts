/**
 * The benchmark suite: `node bench/node_modules/.out/bench/main.js [--only part,part] [--quick]`
 * [--database sqlite|postgres|both] (`--regenerate-workload` rewrites bench/workloads/day-bursty.csv
 * from its seed first) [--cpu-prof DIR] (CPU profiles of the pickup and throughput coordinators)
 * [--compile-baseline REF] (pipeline creation against commit REF, interleaved in one process)
 * [--days normal,outage] (the autoscale part's simulated days to run, for iterating: not saved;
 * staged-normal, staged-flat, staged-spiky, staged-slow are the staged-pipeline variants, run only
 * when named) [--announced uncovered|next|keep|due] (Flotilla's announced_jobs on staged days)
 * [--provider-seed-offset N] (the autoscale part's simulated clouds with other seeds: not saved).
 * The pickup and throughput parts measure both stores when PostgreSQL answers.
 * Prints figures as it goes and merges them into bench/results/latest.json. Nothing here asserts
 * on time; it measures.
 */
import path from 'node:path';

import type { BenchOptions } from './options.js';
import { parseDatabaseOption } from './lib/database.js';
import { loadAverage, machineInfo, mergeResults, type BenchResult } from './lib/results.js';
import { RESULTS_FILE } from './lib/paths.js';
import { stopAll } from './lib/proc.js';
import { runAutoscale, writeWorkload } from './parts/autoscale.js';
import { runCompile } from './parts/compile.js';
import { runDocker } from './parts/docker.js';
import { runFuzz } from './parts/fuzz.js';
import { runLocal } from './parts/local.js';
import { runLoad } from './parts/load.js';
import { runLogs } from './parts/logs.js';
import { runPickup } from './parts/pickup.js';
import { runThroughput } from './parts/throughput.js';
import { runUi } from './parts/ui.js';

const PARTS: Record<string, (o: BenchOptions) => Promise<BenchResult[]>> = {
  local: runLocal,
  pickup: runPickup,
  throughput: runThroughput,
  logs: runLogs,
  docker: runDocker,
  autoscale: runAutoscale,
  ui: runUi,
  compile: runCompile,
  fuzz: runFuzz,
  load: runLoad,
};

function parseArgs(argv: string[]): { parts: string[]; options: BenchOptions } {
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? (argv[onlyIndex + 1] ?? '') : '';
  const parts = only ? only.split(',').map((p) => p.trim()) : Object.keys(PARTS);
  const unknown = parts.filter((p) => !(p in PARTS));
  if (unknown.length > 0)
    throw new Error(`unknown part(s) ${unknown.join(', ')}; parts: ${Object.keys(PARTS).join(', ')}`);
  const dbIndex = argv.indexOf('--database');
  const database = parseDatabaseOption(dbIndex >= 0 ? (argv[dbIndex + 1] ?? '') : undefined);
  const profIndex = argv.indexOf('--cpu-prof');
  const cpuProfDir =
    profIndex >= 0 ? path.resolve(argv[profIndex + 1] ?? 'bench/results/profiles') : undefined;
  const daysIndex = argv.indexOf('--days');
  const days = daysIndex >= 0 ? (argv[daysIndex + 1] ?? '').split(',').map((d) => d.trim()) : undefined;
  const offsetIndex = argv.indexOf('--provider-seed-offset');
  const providerSeedOffset = offsetIndex >= 0 ? Number(argv[offsetIndex + 1]) : undefined;
  if (providerSeedOffset !== undefined && !Number.isInteger(providerSeedOffset))
    throw new Error('--provider-seed-offset takes an integer');
  const announcedIndex = argv.indexOf('--announced');
  const announced = announcedIndex >= 0 ? argv[announcedIndex + 1] : undefined;
  const modes = ['uncovered', 'next', 'keep', 'due'] as const;
  if (announced !== undefined && !modes.includes(announced as (typeof modes)[number]))
    throw new Error('--announced takes uncovered, next, keep or due (e.g. --announced due)');
  const baselineIndex = argv.indexOf('--compile-baseline');
  const compileBaseline = baselineIndex >= 0 ? argv[baselineIndex + 1] : undefined;
  return {
    parts,
    options: {
      quick: argv.includes('--quick'),
      ...(compileBaseline ? { compileBaseline } : {}),
      ...(days ? { days } : {}),
      ...(providerSeedOffset !== undefined ? { providerSeedOffset } : {}),
      ...(announced ? { announced: announced as (typeof modes)[number] } : {}),
      ...(database ? { database } : {}),
      ...(cpuProfDir ? { cpuProfDir } : {}),
    },
  };
}

async function main(): Promise<void> {
  const { parts, options } = parseArgs(process.argv.slice(2));
  if (process.argv.includes('--regenerate-workload')) await writeWorkload();
  const m = machineInfo();
  console.log(
    `flotilla bench: ${parts.join(', ')}${options.quick ? ' (quick)' : ''} on ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, load ${m.loadAverage.join(' ')}`,
  );
  const started = performance.now();
  const failed: string[] = [];
  let saved = 0;
  for (const part of parts) {
    const t0 = performance.now();
    const startedAt = new Date().toISOString();
    const loadBefore = loadAverage();
    console.log(`\n== ${part} (load ${loadBefore.join(' ')})`);
    let fresh: BenchResult[] | null = null;
    try {
      fresh = await PARTS[part]!(options);
    } catch (err) {
      failed.push(part);
      console.log(
        `  part ${part} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
    const seconds = Math.round((performance.now() - t0) / 1000);
    const run = { startedAt, seconds, loadBefore, loadAfter: loadAverage(), ok: fresh !== null };
    // Saved after each part, so an interrupted suite keeps what it measured.
    // Some autoscale days, or other cloud seeds, are for iterating: printed, not saved.
    const subset =
      part === 'autoscale' && (options.days !== undefined || options.providerSeedOffset !== undefined);
    if (fresh && !subset) {
      await mergeResults([part], fresh, RESULTS_FILE, { runs: { [part]: run } });
      saved++;
    }
    console.log(`  (${part} took ${seconds} s; load ${run.loadAfter.join(' ')})`);
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  // The whole suite's wall time is kept from full runs only (a part alone has its own in `runs`).
  if (parts.length === Object.keys(PARTS).length)
    await mergeResults([], [], RESULTS_FILE, {
      suite: { parts, seconds, at: new Date(Date.now() - seconds * 1000).toISOString() },
    });
  console.log(`\n${saved > 0 ? `wrote ${RESULTS_FILE}` : 'nothing saved'} (${seconds} s in all)`);
  if (failed.length > 0) process.exitCode = 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopAll();
    process.exit(130);
  });
}
void main();
