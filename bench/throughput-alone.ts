/**
 * The throughput part's 1,000-client half alone, for A/B runs of one change: a fresh coordinator
 * (this build, or `FLOTILLA_BENCH_CLI`'s), 50 pipelines of 20 no-op jobs, then 1,000 clients on 50
 * runner tokens. Prints the load, coordinator CPU per job, jobs/s, p99 PATCH/PUT and store calls
 * per job (the clients' run only, pipeline creation excluded). `node bench/node_modules/.out/bench/throughput-alone.js sqlite|postgres [clients] [--cpu-prof DIR]`
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

import { perJob, scrapeDbStats, totalPerJob } from './lib/db-stats.js';
import { startStoreTarget, type StoreTarget } from './lib/fleet.js';
import { pgPerJob, samplePg, type PgSample } from './lib/pg-server.js';
import { percentile, round } from './lib/stats.js';
import { half } from './parts/throughput.js';

/** The process's write system calls so far (`syscw` of /proc/PID/io), 0 when unreadable. */
function writeSyscalls(pid: number): number {
  try {
    return Number(/^syscw:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const kind = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';
  const clients = Number(process.argv[3] ?? '1000') || 1000;
  const profIndex = process.argv.indexOf('--cpu-prof');
  const profDir = profIndex >= 0 ? process.argv[profIndex + 1] : undefined;
  const target: StoreTarget = await startStoreTarget('alone', kind, 20, profDir);
  try {
    const loadBefore = loadavg()[0] ?? 0;
    const pid = target.coordinator.proc.pid;
    let before = await scrapeDbStats(target.coordinator.url);
    let writesBefore = 0;
    let pgBefore: PgSample | null = null;
    const h = await half(target.coordinator, target.projectId, clients, 1000, 'alone', async () => {
      before = await scrapeDbStats(target.coordinator.url);
      if (kind === 'postgres') pgBefore = await samplePg(pid);
      writesBefore = writeSyscalls(pid);
    });
    const writes = writeSyscalls(pid) - writesBefore;
    const pgAfter = kind === 'postgres' ? await samplePg(pid) : null;
    const after = await scrapeDbStats(target.coordinator.url);
    const loadAfter = loadavg()[0] ?? 0;
    const figures = {
      store: kind,
      clients,
      load: `${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`,
      jobs: h.jobs,
      errors: h.errors,
      retries: h.retries,
      cpu_ms_per_job: round((h.clientsCpuS * 1000) / Math.max(1, h.jobs), 2),
      // The client process shares the 2 cores with the coordinator: its CPU per job and its cores.
      client_cpu_ms_per_job: round(((h.clientProcessCpuS ?? 0) * 1000) / Math.max(1, h.jobs), 2),
      client_cores: round(h.seconds > 0 ? (h.clientProcessCpuS ?? 0) / h.seconds : null, 2),
      jobs_per_s: round(h.seconds > 0 ? h.jobs / h.seconds : null, 1),
      p99_patch_put_ms: round(percentile(h.patchPut, 99), 1),
      p99_request_201_ms: round(percentile(h.request201, 99), 1),
      store_calls_per_job: round(totalPerJob(before, after, h.jobs), 2),
      // write/writev system calls of the coordinator: HTTP answers, and on PostgreSQL one per statement sent
      write_syscalls_per_job: round(writes / Math.max(1, h.jobs), 2),
      // PostgreSQL's side: its backends' CPU for this coordinator, all its processes' CPU, WAL syncs
      ...pgPerJob(pgBefore, pgAfter, h.jobs),
    };
    console.log(JSON.stringify(figures));
    console.log(perJob(before, after, h.jobs, 12).join('\n'));
  } finally {
    await target.coordinator.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
