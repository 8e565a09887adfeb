/**
 * The reliability load run (issue 13): a backlog of 10,000 pending no-op jobs (500 pipelines of
 * 20, plus the 20 of the project's first push), then 1,000 synthetic Runner-API clients (one process) that request jobs, send two 1 KiB trace
 * PATCHes and a success PUT for each, until the backlog is drained. What it checks: every job ends
 * `success` (the coordinator's own counts: none pending, running, failed or canceled), none is
 * handed out twice (no client receives a job id already received), and the coordinator's memory
 * over the run (RSS sampled every 5 s). `--quick`: 100 clients, 1,000 jobs.
 */
import path from 'node:path';

import { createRunners, startClients } from '../lib/clients.js';
import { createPipeline, startStoreTarget, type BenchCoordinator } from '../lib/fleet.js';
import { readRss, type BenchProcess } from '../lib/proc.js';
import { result, type BenchResult } from '../lib/results.js';
import { round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

const JOBS_PER_PIPELINE = 20;
const RUNNER_TOKENS = 50;
const RSS_EVERY_MS = 5000;
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

/** RSS of the coordinator every RSS_EVERY_MS, with the second of the run it was taken at. */
function sampleRss(pid: number): { stop(): { s: number; mib: number }[] } {
  const start = Date.now();
  const samples: { s: number; mib: number }[] = [];
  const take = (): void => {
    const rss = readRss(pid);
    if (rss) samples.push({ s: Math.round((Date.now() - start) / 1000), mib: Math.round(rss.rssMiB) });
  };
  take();
  const timer = setInterval(take, RSS_EVERY_MS);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Ten samples spread over the run, as `second:MiB`. */
function rssOverTime(samples: { s: number; mib: number }[]): string {
  const picks = Array.from({ length: 10 }, (_, i) => samples[Math.round((i * (samples.length - 1)) / 9)]);
  return picks.map((p) => (p ? `${p.s}s:${p.mib}` : '')).join(' ');
}

export async function runLoad(options: BenchOptions): Promise<BenchResult[]> {
  const clients = options.quick ? 100 : 1000;
  const jobs = options.quick ? 1000 : 10_000;
  const target = await startStoreTarget('load', 'sqlite', JOBS_PER_PIPELINE, options.cpuProfDir);
  const { coordinator, projectId } = target;
  try {
    const queuedAt = Date.now();
    for (let i = 0; i < jobs / JOBS_PER_PIPELINE; i++) await createPipeline(coordinator.api, projectId);
    const queueSeconds = (Date.now() - queuedAt) / 1000;
    const queued = await jobsIn(coordinator, projectId, 'pending');
    console.log(`    ${queued} jobs queued in ${queueSeconds.toFixed(0)} s; starting ${clients} clients`);
    const tokens = await createRunners(coordinator.api, RUNNER_TOKENS);
    const rss = sampleRss(coordinator.proc.pid);
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
    const samples = rss.stop();
    const end = await counts(coordinator, projectId);
    const seconds = ((stats.lastJobAt ?? 0) - (stats.firstJobAt ?? 0)) / 1000;
    const mibs = samples.map((x) => x.mib);
    const figures = {
      jobs_queued: queued,
      jobs_success: end['success'] ?? 0,
      jobs_not_success: queued - (end['success'] ?? 0),
      jobs_failed: end['failed'] ?? 0,
      jobs_left_pending_or_running: (end['pending'] ?? 0) + (end['running'] ?? 0),
      jobs_handed_out_twice: stats.duplicates,
      client_errors: stats.errors,
      seconds: round(seconds, 0),
      jobs_per_s: round(seconds > 0 ? stats.completed / seconds : null, 1),
      rss_first_mib: mibs[0] ?? null,
      rss_peak_mib: Math.max(...mibs),
      rss_last_mib: mibs[mibs.length - 1] ?? null,
    };
    console.log(
      `    ${figures.jobs_success} of ${queued} jobs success, ${figures.jobs_handed_out_twice} handed out twice, ${figures.client_errors} client errors, ${figures.seconds} s (${figures.jobs_per_s} jobs/s); RSS over time (s:MiB) ${rssOverTime(samples)}`,
    );
    return [
      result(
        'load',
        `load run: ${clients} Runner-API clients, ${jobs} queued jobs, SQLite`,
        { clients, jobs, runnerTokens: RUNNER_TOKENS, perJob: 'request, 2 × 1 KiB trace PATCH, success PUT' },
        figures,
        {
          notes: [
            `coordinator RSS over time (second of the run: MiB): ${rssOverTime(samples)}`,
            `queueing the backlog (${jobs / JOBS_PER_PIPELINE} pipelines through the API) took ${queueSeconds.toFixed(0)} s`,
          ],
        },
      ),
    ];
  } finally {
    await coordinator.stop();
  }
}
