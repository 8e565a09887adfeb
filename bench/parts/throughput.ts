/**
 * Part 3: coordinator throughput. A backlog of pending jobs is created first; then C synthetic
 * Runner-API clients (10, 100, 1,000, in a separate process) request jobs, send two 1 KiB trace
 * PATCHes and a success PUT for each, until the backlog is drained. Jobs per second, request
 * latencies, the coordinator's RSS (sampled every 100 ms) and its CPU time (from /proc) per job
 * while the clients run and per pipeline while the backlog is created. Two halves, order reversed. Each
 * setting runs on SQLite and on PostgreSQL (`--database`), one right after the other.
 */
import path from 'node:path';

import { createRunners, startClients } from '../lib/clients.js';
import { perJob, scrapeDbStats, totalPerJob, type DbStats } from '../lib/db-stats.js';
import { storeLabel, storesFor, type StoreKind } from '../lib/database.js';
import { createPipeline, startStoreTarget, type BenchCoordinator, type StoreTarget } from '../lib/fleet.js';
import { readCpuSeconds, readRss, RssSampler, type BenchProcess } from '../lib/proc.js';
import { result, type BenchResult } from '../lib/results.js';
import { percentile, ratio, round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';
import { measureCeiling, type Ceiling } from './throughput-ceiling.js';
import { oneJobStoreCalls, type OneJobCalls } from './throughput-one-job.js';

const SETTINGS = [10, 100, 1000];
const JOBS_PER_PIPELINE = 20;
const MAX_TOKENS = 50;

export interface Half {
  jobs: number;
  seconds: number;
  errors: number;
  /** Requests the clients sent again (no answer, 5xx, 429) or job requests that waited for a 503. */
  retries: number;
  request201: number[];
  patchPut: number[];
  peakRssMiB: number;
  /** Coordinator CPU (user + system) while the backlog's pipelines were created, and while the clients ran. */
  creationCpuS: number;
  pipelines: number;
  clientsCpuS: number;
  /** CPU the client process itself used from its first job to its last (null: an older client). */
  clientProcessCpuS: number | null;
}

/** Jobs of the project in one status (the `X-Total` of a one-row page). */
async function jobsIn(coordinator: BenchCoordinator, projectId: number, scope: string): Promise<number> {
  const res = await coordinator.api.get(`/projects/${projectId}/jobs?scope[]=${scope}&per_page=1`);
  return Number(res.headers.get('x-total') ?? '0');
}

/**
 * Waits for the clients' STATS. A job whose trace or status request failed under load is never
 * completed, so the clients may never reach their job count: once no job has been pending and no
 * running job has finished for 5 s, they are told to stop (SIGTERM makes them write STATS),
 * instead of idling to the limit. (Running jobs alone cannot say "done": a job a stopped half
 * had claimed stays running.)
 */
async function untilDrained(
  coordinator: BenchCoordinator,
  projectId: number,
  proc: BenchProcess,
): Promise<void> {
  const deadline = Date.now() + 300_000;
  let emptySince = 0;
  let running = -1;
  while (Date.now() < deadline) {
    try {
      await proc.waitFor(/STATS\n/, 2000);
      return;
    } catch {
      // not yet
    }
    const pending = await jobsIn(coordinator, projectId, 'pending').catch(() => 1);
    const nowRunning = await jobsIn(coordinator, projectId, 'running').catch(() => -1);
    const moved = nowRunning !== running;
    running = nowRunning;
    if (pending > 0 || moved) emptySince = 0;
    else if (emptySince === 0) emptySince = Date.now();
    else if (Date.now() - emptySince >= 5000) break;
  }
  await proc.stop('SIGTERM');
}

export async function half(
  coordinator: BenchCoordinator,
  projectId: number,
  clients: number,
  backlog: number,
  tag: string,
  afterCreation?: () => Promise<void>,
): Promise<Half> {
  const cpu = (): number => readCpuSeconds(coordinator.proc.pid) ?? 0;
  const pipelines = backlog / JOBS_PER_PIPELINE;
  const cpuAtStart = cpu();
  for (let i = 0; i < pipelines; i++) await createPipeline(coordinator.api, projectId);
  await afterCreation?.();
  const cpuAfterCreation = cpu();
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
  await untilDrained(coordinator, projectId, fleet.proc);
  const cpuAfterClients = cpu();
  const stats = await fleet.stats();
  const peak = sampler.stop().get(coordinator.proc.pid) ?? 0;
  const seconds = ((stats.lastJobAt ?? 0) - (stats.firstJobAt ?? 0)) / 1000;
  return {
    jobs: stats.completed,
    seconds,
    errors: stats.errors,
    retries: stats.retries.trace + stats.retries.update + stats.retries.request,
    request201: stats.latencies.request201,
    patchPut: [...stats.latencies.trace, ...stats.latencies.update],
    peakRssMiB: peak,
    creationCpuS: cpuAfterCreation - cpuAtStart,
    pipelines,
    clientsCpuS: cpuAfterClients - cpuAfterCreation,
    clientProcessCpuS: stats.cpuSecondsWhileJobs ?? null,
  };
}

const PART = 'throughput';

/** The targets of issue 12, at 1,000 clients: jobs/s at least, p99 PATCH/PUT at most. */
const TARGETS: Record<StoreKind, { jobsPerS: number; p99Ms: number }> = {
  sqlite: { jobsPerS: 1000, p99Ms: 100 },
  postgres: { jobsPerS: 500, p99Ms: 200 },
};
const ONE_JOB_CALLS_TARGET = 10;

function against(value: number | null, target: number, atLeast: boolean): string {
  if (value === null) return `n/a (target ${atLeast ? '≥' : '≤'} ${target}, SHORT)`;
  const met = atLeast ? value >= target : value <= target;
  return `${value} (target ${atLeast ? '≥' : '≤'} ${target}${met ? ', met' : ', SHORT'})`;
}

interface Target extends StoreTarget {
  idleRssMiB: number;
  /** Store calls before the first job (pipeline creation and setup excluded from the per-job figures). */
  dbBefore: DbStats;
}

async function startTarget(kind: StoreKind, cpuProfDir: string | undefined): Promise<Target> {
  const target = await startStoreTarget(PART, kind, JOBS_PER_PIPELINE, cpuProfDir);
  try {
    const idleRssMiB = readRss(target.coordinator.proc.pid)?.rssMiB ?? 0;
    return { ...target, idleRssMiB, dbBefore: await scrapeDbStats(target.coordinator.url) };
  } catch (err) {
    await target.coordinator.stop();
    throw err;
  }
}

function figuresOf(hs: Half[], idleRssMiB: number) {
  const jobs = hs.reduce((a, h) => a + h.jobs, 0);
  const seconds = hs.reduce((a, h) => a + h.seconds, 0);
  const perHalf = hs.map((h) => (h.seconds > 0 ? h.jobs / h.seconds : 0));
  const request201 = hs.flatMap((h) => h.request201);
  const patchPut = hs.flatMap((h) => h.patchPut);
  return {
    jobs,
    jobs_per_s: round(seconds > 0 ? jobs / seconds : null, 1),
    jobs_per_s_halves: perHalf.map((x) => x.toFixed(1)).join(' / '),
    p50_patch_put_ms: round(percentile(patchPut, 50), 1),
    p99_patch_put_ms: round(percentile(patchPut, 99), 1),
    p50_job_request_201_ms: round(percentile(request201, 50), 1),
    p99_job_request_201_ms: round(percentile(request201, 99), 1),
    coordinator_peak_rss_mib: round(Math.max(...hs.map((h) => h.peakRssMiB)), 0),
    coordinator_idle_rss_mib: round(idleRssMiB, 0),
    errors: hs.reduce((a, h) => a + h.errors, 0),
    client_retries: hs.reduce((a, h) => a + h.retries, 0),
    coordinator_cpu_ms_per_job: round(jobs > 0 ? (sum(hs, (h) => h.clientsCpuS) * 1000) / jobs : null, 2),
    coordinator_cpu_ms_per_pipeline_created: round(
      (sum(hs, (h) => h.creationCpuS) * 1000) /
        Math.max(
          1,
          sum(hs, (h) => h.pipelines),
        ),
      2,
    ),
  };
}

const sum = (hs: Half[], f: (h: Half) => number): number => hs.reduce((a, h) => a + f(h), 0);

/** The clients of the setting the ceiling is measured at (the targets' setting). */
const CEILING_CLIENTS = 1000;

async function ceilingRun(jobs: number): Promise<Ceiling> {
  const c = await measureCeiling(CEILING_CLIENTS, jobs, Math.min(CEILING_CLIENTS, MAX_TOKENS));
  console.log(
    `    ceiling (same clients, a server answering from memory), ${CEILING_CLIENTS} clients: ${c.jobs} jobs, ${c.jobsPerS} jobs/s, server CPU ${c.serverCpuMsPerJob} ms/job, clients ${c.clientCpuMsPerJob} ms/job`,
  );
  return c;
}

/** The run with the median jobs/s (the lower of two), or null when none ran. */
function medianCeiling(runs: Ceiling[]): Ceiling | null {
  const sorted = [...runs].sort((a, b) => (a.jobsPerS ?? 0) - (b.jobsPerS ?? 0));
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
}

function ceilingShare(jobsPerS: number | null, ceiling: Ceiling | null): string | null {
  if (!ceiling?.jobsPerS || jobsPerS === null) return null;
  const share = Math.round((100 * jobsPerS) / ceiling.jobsPerS);
  return `${share} % of this machine's ceiling for these clients (${ceiling.jobsPerS} jobs/s against a server answering from memory: server ${ceiling.serverCpuMsPerJob} ms, clients ${ceiling.clientCpuMsPerJob} ms of CPU per job)`;
}

export async function runThroughput(options: BenchOptions): Promise<BenchResult[]> {
  const stores = await storesFor(options.database);
  const targets: Target[] = [];
  try {
    for (const kind of stores) targets.push(await startTarget(kind, options.cpuProfDir));
    const halves = new Map<string, Half[]>();
    const ceilings: Ceiling[] = [];
    const key = (kind: StoreKind, c: number): string => `${kind}:${c}`;
    const orders = options.quick ? [SETTINGS] : [SETTINGS, [...SETTINGS].reverse()];
    // At least one job per client: with fewer, 1,000 clients measure one job's latency, not a rate.
    const backlogOf = (c: number): number => (options.quick ? 60 : Math.max(100, c));
    for (const [i, order] of orders.entries()) {
      for (const c of order) {
        for (const t of i === 0 ? targets : [...targets].reverse()) {
          const h = await half(t.coordinator, t.projectId, c, backlogOf(c), `${c}-${i}`);
          console.log(
            `    ${storeLabel(t.kind)}, ${c} clients: ${h.jobs} jobs in ${h.seconds.toFixed(2)} s, ${h.errors} errors, ${h.retries} retries, peak RSS ${h.peakRssMiB.toFixed(0)} MiB`,
          );
          halves.set(key(t.kind, c), [...(halves.get(key(t.kind, c)) ?? []), h]);
        }
        if (c === CEILING_CLIENTS) ceilings.push(await ceilingRun(backlogOf(c)));
      }
    }
    const ceiling = medianCeiling(ceilings);
    const dbAfter = new Map<StoreKind, DbStats>();
    for (const t of targets) dbAfter.set(t.kind, await scrapeDbStats(t.coordinator.url));
    const oneJob = new Map<StoreKind, OneJobCalls>();
    for (const t of targets) {
      const calls = await oneJobStoreCalls(t.coordinator);
      oneJob.set(t.kind, calls);
      console.log(
        `  ${storeLabel(t.kind)} store calls for a one-job pipeline: creation ${round(calls.creation, 0)}, job request → success ${against(round(calls.requestToSuccess, 0), ONE_JOB_CALLS_TARGET, false)}`,
      );
      console.log(
        `    of which (with the ${calls.scrapeCalls} calls of the bench's own /metrics scrape, subtracted above): ${calls.requestToSuccessByOperation.map((x) => x.replace(/ calls\/job.*/, '')).join(', ')}`,
      );
    }
    return targets.flatMap((t) => {
      const hwm = readRss(t.coordinator.proc.pid)?.hwmMiB ?? null;
      const completed = [...halves].filter(([k]) => k.startsWith(`${t.kind}:`)).flatMap(([, hs]) => hs);
      const completedJobs = completed.reduce((a, h) => a + h.jobs, 0);
      const dbPerJob = perJob(t.dbBefore, dbAfter.get(t.kind) ?? new Map(), completedJobs);
      const callsPerJob = round(totalPerJob(t.dbBefore, dbAfter.get(t.kind) ?? new Map(), completedJobs), 1);
      const one = oneJob.get(t.kind);
      console.log(
        `  ${storeLabel(t.kind)} store calls per completed job (whole part, pipeline creation and empty polls included): ${callsPerJob} in all; ${dbPerJob.join('; ')}`,
      );
      return SETTINGS.map((c) => {
        const hs = halves.get(key(t.kind, c)) ?? [];
        const figures = figuresOf(hs, t.idleRssMiB);
        const sqlite = t.kind === 'postgres' ? targets.find((x) => x.kind === 'sqlite') : undefined;
        const peer = sqlite ? figuresOf(halves.get(key('sqlite', c)) ?? [], sqlite.idleRssMiB) : null;
        const target = c === 1000 ? TARGETS[t.kind] : undefined;
        const jobsPerS = target
          ? against(figures.jobs_per_s, target.jobsPerS, true)
          : String(figures.jobs_per_s);
        const p99 = target
          ? against(figures.p99_patch_put_ms, target.p99Ms, false)
          : figures.p99_patch_put_ms;
        console.log(
          `  ${storeLabel(t.kind)}, ${c} clients: ${jobsPerS} jobs/s, p99 PATCH/PUT ${p99} ms, p99 201 job request ${figures.p99_job_request_201_ms} ms, peak RSS ${figures.coordinator_peak_rss_mib} MiB, coordinator CPU ${figures.coordinator_cpu_ms_per_job} ms/job${target ? ` (${target.jobsPerS} jobs/s on one core needs ≤ ${round(1000 / target.jobsPerS, 1)})` : ''}, ${figures.coordinator_cpu_ms_per_pipeline_created} ms per ${JOBS_PER_PIPELINE}-job pipeline created`,
        );
        const ofCeiling = c === CEILING_CLIENTS ? ceilingShare(figures.jobs_per_s, ceiling) : null;
        if (ofCeiling) console.log(`    ${ofCeiling}`);
        return result(
          'throughput',
          `coordinator throughput, ${c} concurrent Runner-API clients, ${storeLabel(t.kind)}`,
          {
            clients: c,
            store: t.kind,
            runnerTokens: Math.min(c, MAX_TOKENS),
            jobs: figures.jobs,
            perJob: 'request, 2 × 1 KiB trace PATCH, success PUT',
            halves: hs.length,
          },
          {
            ...figures,
            store_calls_per_job: callsPerJob,
            one_job_pipeline_store_calls_creation: round(one?.creation ?? null, 0),
            one_job_pipeline_store_calls_request_to_success: round(one?.requestToSuccess ?? null, 0),
            ...(target ? { target_jobs_per_s: target.jobsPerS, target_p99_patch_put_ms: target.p99Ms } : {}),
            ...(c === CEILING_CLIENTS && ceiling
              ? {
                  ceiling_jobs_per_s: ceiling.jobsPerS,
                  ceiling_server_cpu_ms_per_job: ceiling.serverCpuMsPerJob,
                  ceiling_client_cpu_ms_per_job: ceiling.clientCpuMsPerJob,
                }
              : {}),
            target_one_job_store_calls: ONE_JOB_CALLS_TARGET,
          },
          {
            ...(peer
              ? {
                  peer: { name: 'the same bench on SQLite (same run, alternating)', figures: peer },
                  ratio: {
                    jobs_per_s: ratio(figures.jobs_per_s, peer.jobs_per_s),
                    p99_patch_put_ms: ratio(figures.p99_patch_put_ms, peer.p99_patch_put_ms),
                    coordinator_peak_rss_mib: ratio(
                      figures.coordinator_peak_rss_mib,
                      peer.coordinator_peak_rss_mib,
                    ),
                  },
                }
              : {}),
            notes: [
              `coordinator VmHWM over the whole part: ${round(hwm, 0)} MiB`,
              `store calls per completed job over the whole part (pipeline creation and empty polls included): ${callsPerJob} in all; busiest first: ${dbPerJob.join('; ')}`,
              'one-job pipeline: store calls of POST /pipeline, then of one runner from its job request to its success PUT (2 trace PATCHes); the SQLite group-commit wait (durable) is not a store call',
              'p99 PATCH/PUT: trace and status requests; 201 job request: requests that returned a job (may include time held in the long poll)',
              ...(c === CEILING_CLIENTS
                ? [
                    "ceiling: the same client process and settings against a server that answers the three routes from memory (no store, no scheduling): what the clients and Node's HTTP alone reach on this machine; median of one run per order",
                  ]
                : []),
            ],
          },
        );
      });
    });
  } finally {
    for (const t of targets) await t.coordinator.stop();
  }
}
