/**
 * Part 3: coordinator throughput. A backlog of pending jobs is created first; then C synthetic
 * Runner-API clients (10, 100, 1,000, in a separate process) request jobs, send two 1 KiB trace
 * PATCHes and a success PUT for each, until the backlog is drained. Jobs per second, request
 * latencies, and the coordinator's RSS (sampled every 100 ms). Two halves, order reversed.
 */
import path from 'node:path';

import { createRunners, startClients } from '../lib/clients.js';
import {
  createPipeline,
  createProjectWith,
  noopPipeline,
  startBenchCoordinator,
  type BenchCoordinator,
} from '../lib/fleet.js';
import { readRss, RssSampler } from '../lib/proc.js';
import { result, type BenchResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

const SETTINGS = [10, 100, 1000];
const JOBS_PER_PIPELINE = 20;
const MAX_TOKENS = 50;

interface Half {
  jobs: number;
  seconds: number;
  errors: number;
  request201: number[];
  patchPut: number[];
  peakRssMiB: number;
}

async function half(
  coordinator: BenchCoordinator,
  projectId: number,
  clients: number,
  backlog: number,
  tag: string,
): Promise<Half> {
  for (let i = 0; i < backlog / JOBS_PER_PIPELINE; i++) await createPipeline(coordinator.api, projectId);
  const tokens = await createRunners(coordinator.api, Math.min(clients, MAX_TOKENS));
  const sampler = new RssSampler([coordinator.proc.pid]);
  const fleet = await startClients({
    url: coordinator.url,
    tokens,
    clients,
    tracePatches: 2,
    traceBytes: 1024,
    maxJobs: backlog,
    statsFile: path.join(coordinator.dir, `throughput-${tag}.json`),
  });
  await fleet.proc.waitFor(/STATS\n/, 300_000).catch(() => undefined);
  const stats = await fleet.stats();
  const peak = sampler.stop().get(coordinator.proc.pid) ?? 0;
  const seconds = ((stats.lastJobAt ?? 0) - (stats.firstJobAt ?? 0)) / 1000;
  return {
    jobs: stats.completed,
    seconds,
    errors: stats.errors,
    request201: stats.latencies.request201,
    patchPut: [...stats.latencies.trace, ...stats.latencies.update],
    peakRssMiB: peak,
  };
}

export async function runThroughput(options: BenchOptions): Promise<BenchResult[]> {
  const coordinator = await startBenchCoordinator({ prefix: 'flotilla-bench-throughput-' });
  try {
    const project = await createProjectWith(coordinator, 'throughput', {
      '.gitlab-ci.yml': noopPipeline(JOBS_PER_PIPELINE),
    });
    const baseline = readRss(coordinator.proc.pid)?.rssMiB ?? 0;
    const halves = new Map<number, Half[]>(SETTINGS.map((c) => [c, []]));
    const orders = options.quick ? [SETTINGS] : [SETTINGS, [...SETTINGS].reverse()];
    for (const order of orders) {
      for (const c of order) {
        const backlog = options.quick ? 60 : 100;
        const h = await half(coordinator, project.id, c, backlog, `${c}-${order[0]}`);
        console.log(
          `    ${c} clients: ${h.jobs} jobs in ${h.seconds.toFixed(2)} s, ${h.errors} errors, peak RSS ${h.peakRssMiB.toFixed(0)} MiB`,
        );
        halves.get(c)!.push(h);
      }
    }
    const hwm = readRss(coordinator.proc.pid)?.hwmMiB ?? null;
    return SETTINGS.map((c) => {
      const hs = halves.get(c)!;
      const jobs = hs.reduce((a, h) => a + h.jobs, 0);
      const seconds = hs.reduce((a, h) => a + h.seconds, 0);
      const perHalf = hs.map((h) => (h.seconds > 0 ? h.jobs / h.seconds : 0));
      const request201 = hs.flatMap((h) => h.request201);
      const patchPut = hs.flatMap((h) => h.patchPut);
      const figures = {
        jobs_per_s: round(seconds > 0 ? jobs / seconds : null, 1),
        jobs_per_s_halves: perHalf.map((x) => x.toFixed(1)).join(' / '),
        p50_patch_put_ms: round(percentile(patchPut, 50), 1),
        p99_patch_put_ms: round(percentile(patchPut, 99), 1),
        p50_job_request_201_ms: round(percentile(request201, 50), 1),
        p99_job_request_201_ms: round(percentile(request201, 99), 1),
        coordinator_peak_rss_mib: round(Math.max(...hs.map((h) => h.peakRssMiB)), 0),
        coordinator_idle_rss_mib: round(baseline, 0),
        errors: hs.reduce((a, h) => a + h.errors, 0),
      };
      console.log(
        `  ${c} clients: ${figures.jobs_per_s} jobs/s, p99 PATCH/PUT ${figures.p99_patch_put_ms} ms, p99 201 job request ${figures.p99_job_request_201_ms} ms, peak RSS ${figures.coordinator_peak_rss_mib} MiB`,
      );
      return result(
        'throughput',
        `coordinator throughput, ${c} concurrent Runner-API clients`,
        {
          clients: c,
          runnerTokens: Math.min(c, MAX_TOKENS),
          jobs,
          perJob: 'request, 2 × 1 KiB trace PATCH, success PUT',
          store: 'SQLite (default)',
          halves: hs.length,
        },
        figures,
        {
          notes: [
            `coordinator VmHWM over the whole part: ${round(hwm, 0)} MiB`,
            'p99 PATCH/PUT: trace and status requests; 201 job request: requests that returned a job (may include time held in the long poll)',
          ],
        },
      );
    });
  } finally {
    await coordinator.stop();
  }
}
