/**
 * Part 4: log throughput. A real coordinator process and a real runner process (shell executor,
 * output_limit raised above the log) run a job that prints N MB. End-to-end MB/s = stored log
 * bytes ÷ (job finished_at − started_at); peak RSS of both processes is sampled every 100 ms. Two
 * sizes (50 and 200 MB) show whether memory grows with the log.
 */
import path from 'node:path';

import { createPipeline, createProjectWith, startBenchCoordinator, startBenchRunner } from '../lib/fleet.js';
import { readCpuTimes, readRss, RssSampler } from '../lib/proc.js';
import { result, type BenchResult } from '../lib/results.js';
import { round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';
import type { TestApi } from '../../harness/api-client.js';

const MB = 1_000_000;
/** Issue 12's target for the 200 MB log: MB/s at least, peak RSS of each process at most. */
export const LOG_TARGET = { mbPerS: 200, peakRssMiB: 150 };
const LINE =
  '0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrs';

function yaml(bytes: number): string {
  return [
    'variables:',
    '  GIT_STRATEGY: none',
    '',
    'print:',
    '  script:',
    `    - yes "${LINE}" | head -c ${bytes} || true`,
    '',
  ].join('\n');
}

/** Counts the stored log's bytes by streaming it (never holding it in memory). */
async function storedBytes(api: TestApi, projectId: number, jobId: number): Promise<number> {
  const res = await fetch(`${api.baseUrl}/api/v4/projects/${projectId}/jobs/${jobId}/trace`, {
    headers: { 'PRIVATE-TOKEN': api.token },
  });
  let n = 0;
  if (!res.body) return 0;
  for await (const chunk of res.body) n += (chunk as Uint8Array).byteLength;
  return n;
}

type CpuTimes = { user: number; system: number };

function cpuSince(now: CpuTimes | null, before: CpuTimes | null): CpuTimes {
  return { user: (now?.user ?? 0) - (before?.user ?? 0), system: (now?.system ?? 0) - (before?.system ?? 0) };
}

interface JobInfo {
  id: number;
  status: string;
  started_at: string | null;
  finished_at: string | null;
}

export async function runLogs(options: BenchOptions): Promise<BenchResult[]> {
  const sizes = options.quick ? [20 * MB, 50 * MB] : [50 * MB, 200 * MB];
  const out: BenchResult[] = [];
  const coordinator = await startBenchCoordinator({
    prefix: 'flotilla-bench-logs-',
    ...(options.cpuProfDir ? { cpuProfDir: path.join(options.cpuProfDir, 'logs-coordinator') } : {}),
  });
  try {
    const { token } = await coordinator.api.createRunner({ description: 'bench-logs' });
    const runner = await startBenchRunner({
      url: coordinator.url,
      token,
      dir: path.join(coordinator.dir, 'runner'),
      // FF_TIMESTAMPS (on by default) adds a 32-byte header to each 101-byte line: ×1.32 stored
      outputLimitKiB: Math.ceil((Math.max(...sizes) * 1.5) / 1024),
      ...(options.cpuProfDir ? { cpuProfDir: path.join(options.cpuProfDir, 'logs-runner') } : {}),
    });
    try {
      const idle = {
        coordinator: readRss(coordinator.proc.pid)?.rssMiB ?? 0,
        runner: readRss(runner.pid)?.rssMiB ?? 0,
      };
      for (const bytes of sizes) {
        const project = await createProjectWith(coordinator, `logs-${bytes / MB}mb`, {
          '.gitlab-ci.yml': yaml(bytes),
        });
        const sampler = new RssSampler([coordinator.proc.pid, runner.pid]);
        const pids = [runner.pid, coordinator.proc.pid];
        const cpuBefore = pids.map(readCpuTimes);
        const pipeline = await createPipeline(coordinator.api, project.id);
        const job = await coordinator.api.until(
          async () => {
            const jobs = (
              await coordinator.api.get<JobInfo[]>(`/projects/${project.id}/pipelines/${pipeline.id}/jobs`)
            ).body;
            const j = jobs[0];
            return j && ['success', 'failed', 'canceled'].includes(j.status) ? j : undefined;
          },
          'the log job',
          1200,
          250,
        );
        const peaks = sampler.stop();
        const cpu = pids.map((pid, i) => cpuSince(readCpuTimes(pid), cpuBefore[i] ?? null));
        const stored = await storedBytes(coordinator.api, project.id, job.id);
        const seconds = (Date.parse(job.finished_at ?? '') - Date.parse(job.started_at ?? '')) / 1000;
        const figures = {
          status: job.status,
          log_mb: round(bytes / MB, 0),
          stored_mb: round(stored / MB, 1),
          job_seconds: round(seconds, 2),
          mb_per_s: round(stored / MB / seconds, 1),
          runner_peak_rss_mib: round(peaks.get(runner.pid) ?? null, 0),
          coordinator_peak_rss_mib: round(peaks.get(coordinator.proc.pid) ?? null, 0),
          runner_idle_rss_mib: round(idle.runner, 0),
          coordinator_idle_rss_mib: round(idle.coordinator, 0),
          runner_cpu_s: round((cpu[0]?.user ?? 0) + (cpu[0]?.system ?? 0), 2),
          coordinator_cpu_s: round((cpu[1]?.user ?? 0) + (cpu[1]?.system ?? 0), 2),
          runner_system_cpu_s: round(cpu[0]?.system ?? 0, 2),
          coordinator_system_cpu_s: round(cpu[1]?.system ?? 0, 2),
        };
        const short =
          (figures.mb_per_s ?? 0) < LOG_TARGET.mbPerS ||
          (figures.runner_peak_rss_mib ?? 0) > LOG_TARGET.peakRssMiB ||
          (figures.coordinator_peak_rss_mib ?? 0) > LOG_TARGET.peakRssMiB;
        console.log(
          `  ${figures.log_mb} MB: ${figures.status}, stored ${figures.stored_mb} MB in ${figures.job_seconds} s = ${figures.mb_per_s} MB/s (target ≥ ${LOG_TARGET.mbPerS}); peak RSS runner ${figures.runner_peak_rss_mib} MiB, coordinator ${figures.coordinator_peak_rss_mib} MiB (target ≤ ${LOG_TARGET.peakRssMiB} each)${bytes === Math.max(...sizes) ? (short ? ' — SHORT of target' : ' — target met') : ''}`,
        );
        console.log(
          `    CPU during the job: runner ${figures.runner_cpu_s} s (kernel ${figures.runner_system_cpu_s} s), coordinator ${figures.coordinator_cpu_s} s (kernel ${figures.coordinator_system_cpu_s} s)`,
        );
        out.push(
          result(
            'logs',
            `log throughput, ${figures.log_mb} MB job log`,
            {
              logBytes: bytes,
              executor: 'shell',
              // FF_TIMESTAMPS (on by default) adds a 32-byte header to each 101-byte line: ×1.32 stored
              outputLimitKiB: Math.ceil((Math.max(...sizes) * 1.5) / 1024),
              store: 'SQLite (default)',
              rssSampleMs: 100,
              targets: { mb_per_s: LOG_TARGET.mbPerS, peak_rss_mib_each: LOG_TARGET.peakRssMiB },
            },
            figures,
            {
              notes: [
                'MB/s = stored bytes ÷ (finished_at − started_at): from the job printing to the log stored by the coordinator (1 MB = 10^6 bytes)',
                'CPU = user + system time of each process (system, the kernel share, also shown apart) from the pipeline creation to the job finishing (/proc/PID/stat); it does not depend on the machine load as the wall time does',
              ],
            },
          ),
        );
      }
    } finally {
      await runner.stop();
    }
  } finally {
    await coordinator.stop();
  }
  return out;
}
