/**
 * The reliability load run (issue 13): a backlog of 10,000 pending no-op jobs (500 pipelines of
 * 20, plus the 20 of the project's first push), then 1,000 synthetic Runner-API clients (one process) that request jobs, send two 1 KiB trace
 * PATCHes and a success PUT for each, until the backlog is drained. What it checks: every job ends
 * `success` (the coordinator's own counts: none pending, running, failed or canceled), none is
 * handed out twice (no client receives a job id already received), and whether the coordinator's
 * memory stays flat: RSS, heap used and the heap retained after each full GC (the coordinator runs
 * with `--trace-gc`), sampled every 5 s against the jobs done, with slopes per 1,000 jobs
 * (memory-trend.ts). The clients retry as gitlab-runner does (retry.ts) and count their retries.
 * `--quick`: 100 clients, 1,000 jobs.
 */
import path from 'node:path';

import type { ClientStats } from '../clients/client-stats.js';
import { createRunners, startClients } from '../lib/clients.js';
import { createPipeline, startStoreTarget, type BenchCoordinator } from '../lib/fleet.js';
import { MemorySampler } from '../lib/memory-sampler.js';
import { describeTrend, memoryTrend, type MemorySample, type MemoryTrend } from '../lib/memory-trend.js';
import { type BenchProcess } from '../lib/proc.js';
import { result, type BenchResult, type Figures } from '../lib/results.js';
import { round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

const JOBS_PER_PIPELINE = 20;
const RUNNER_TOKENS = 50;
const MEMORY_EVERY_MS = 5000;
/** The clients are stopped when nothing moved for this long (a job they lost stays running). */
const STALL_MS = 30_000;
const LIMIT_MS = 40 * 60_000;

const STATUSES = ['success', 'failed', 'canceled', 'pending', 'running'] as const;

async function jobsIn(coordinator: BenchCoordinator, projectId: number, scope: string): Promise<number> {
  const res = await coordinator.api.get(`/projects/${projectId}/jobs?scope[]=${scope}&per_page=1`);
  return Number(res.headers.get('x-total') ?? '0');
}

async function counts(coordinator: BenchCoordinator, projectId: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of STATUSES) out[s] = await jobsIn(coordinator, projectId, s);
  return out;
}

/** Waits for the clients' STATS, or stops them once no job is pending and nothing moved for STALL_MS. */
async function untilDone(
  coordinator: BenchCoordinator,
  projectId: number,
  proc: BenchProcess,
): Promise<void> {
  const deadline = Date.now() + LIMIT_MS;
  let last = '';
  let sameSince = Date.now();
  while (Date.now() < deadline) {
    try {
      await proc.waitFor(/STATS\n/, 5000);
      return;
    } catch {
      // not yet
    }
    const now = JSON.stringify(await counts(coordinator, projectId).catch(() => ({})));
    if (now !== last) {
      last = now;
      sameSince = Date.now();
    } else if (Date.now() - sameSince >= STALL_MS) break;
  }
  await proc.stop('SIGTERM');
}

/** Ten samples spread over the run, as `second:RSS MiB/retained heap MiB`. */
function memoryOverTime(samples: readonly MemorySample[]): string {
  const picks = Array.from({ length: 10 }, (_, i) => samples[Math.round((i * (samples.length - 1)) / 9)]);
  return picks
    .map((p) => (p ? `${p.s}s:${p.rssMiB.toFixed(0)}/${p.retainedMiB?.toFixed(0) ?? '-'}` : ''))
    .join(' ');
}

function jobFigures(queued: number, end: Record<string, number>, stats: ClientStats): Figures {
  const seconds = ((stats.lastJobAt ?? 0) - (stats.firstJobAt ?? 0)) / 1000;
  return {
    jobs_queued: queued,
    jobs_success: end['success'] ?? 0,
    jobs_not_success: queued - (end['success'] ?? 0),
    jobs_failed: end['failed'] ?? 0,
    jobs_left_pending_or_running: (end['pending'] ?? 0) + (end['running'] ?? 0),
    jobs_handed_out_twice: stats.duplicates,
    client_errors: stats.errors,
    client_retries_trace: stats.retries.trace,
    client_retries_update: stats.retries.update,
    client_request_waits_503: stats.retries.request,
    seconds: round(seconds, 0),
    jobs_per_s: round(seconds > 0 ? stats.completed / seconds : null, 1),
  };
}

function memoryFigures(samples: readonly MemorySample[], trend: MemoryTrend, fullGcs: number): Figures {
  const mibs = samples.map((x) => Math.round(x.rssMiB));
  const retained = (x: MemorySample | undefined): number | null => round(x?.retainedMiB, 0);
  return {
    rss_first_mib: mibs[0] ?? null,
    rss_peak_mib: Math.max(...mibs),
    rss_last_mib: mibs[mibs.length - 1] ?? null,
    rss_middle_mib: round(trend.middle?.rssMiB, 0),
    heap_used_first_mib: round(trend.start?.heapUsedMiB, 0),
    heap_used_middle_mib: round(trend.middle?.heapUsedMiB, 0),
    heap_used_last_mib: round(trend.end?.heapUsedMiB, 0),
    retained_heap_first_mib: retained(trend.start),
    retained_heap_middle_mib: retained(trend.middle),
    retained_heap_last_mib: retained(trend.end),
    full_gcs: fullGcs,
    rss_mib_per_1000_jobs: round(trend.slopes.rssMiB.whole, 2),
    rss_mib_per_1000_jobs_second_half: round(trend.slopes.rssMiB.secondHalf, 2),
    heap_used_mib_per_1000_jobs: round(trend.slopes.heapUsedMiB.whole, 2),
    retained_heap_mib_per_1000_jobs: round(trend.slopes.retainedMiB.whole, 2),
    retained_heap_mib_per_1000_jobs_second_half: round(trend.slopes.retainedMiB.secondHalf, 2),
    memory_flat: trend.flat === null ? 'unknown' : trend.flat ? 'yes' : 'no',
  };
}

export async function runLoad(options: BenchOptions): Promise<BenchResult[]> {
  const clients = options.quick ? 100 : 1000;
  const jobs = options.quick ? 1000 : 10_000;
  const target = await startStoreTarget('load', 'sqlite', JOBS_PER_PIPELINE, options.cpuProfDir, [
    '--trace-gc',
  ]);
  const { coordinator, projectId } = target;
  try {
    const queuedAt = Date.now();
    for (let i = 0; i < jobs / JOBS_PER_PIPELINE; i++) await createPipeline(coordinator.api, projectId);
    const queueSeconds = (Date.now() - queuedAt) / 1000;
    const queued = await jobsIn(coordinator, projectId, 'pending');
    console.log(`    ${queued} jobs queued in ${queueSeconds.toFixed(0)} s; starting ${clients} clients`);
    const tokens = await createRunners(coordinator.api, RUNNER_TOKENS);
    const memory = new MemorySampler(
      coordinator.proc,
      coordinator.url,
      () => jobsIn(coordinator, projectId, 'success'),
      MEMORY_EVERY_MS,
    );
    const fleet = await startClients({
      url: coordinator.url,
      tokens,
      clients,
      tracePatches: 2,
      traceBytes: 1024,
      maxJobs: queued,
      statsFile: path.join(coordinator.dir, 'load.json'),
    });
    await untilDone(coordinator, projectId, fleet.proc);
    const stats = await fleet.stats();
    const samples = await memory.stop();
    const trend = memoryTrend(samples);
    const end = await counts(coordinator, projectId);
    const figures = {
      ...jobFigures(queued, end, stats),
      ...memoryFigures(samples, trend, memory.fullGcs.length),
    };
    console.log(
      `    ${figures['jobs_success']} of ${queued} jobs success, ${figures['jobs_handed_out_twice']} handed out twice, ${figures['client_errors']} client errors, retries ${stats.retries.trace} trace / ${stats.retries.update} final PUT / ${stats.retries.request} job requests after 503, ${figures['seconds']} s (${figures['jobs_per_s']} jobs/s)`,
    );
    console.log(`    memory over time (s:RSS MiB/retained heap MiB) ${memoryOverTime(samples)}`);
    for (const line of describeTrend(trend)) console.log(`    ${line}`);
    return [
      result(
        'load',
        `load run: ${clients} Runner-API clients, ${jobs} queued jobs, SQLite`,
        { clients, jobs, runnerTokens: RUNNER_TOKENS, perJob: 'request, 2 × 1 KiB trace PATCH, success PUT' },
        figures,
        {
          notes: [
            `coordinator memory over time (second of the run: RSS MiB / heap retained after the last full GC MiB): ${memoryOverTime(samples)}`,
            ...describeTrend(trend),
            `queueing the backlog (${jobs / JOBS_PER_PIPELINE} pipelines through the API) took ${queueSeconds.toFixed(0)} s`,
          ],
        },
      ),
    ];
  } finally {
    await coordinator.stop();
  }
}
