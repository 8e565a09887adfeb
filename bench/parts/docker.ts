/**
 * Part 5: docker executor overhead. A coordinator listens on the gateway of a docker network the
 * bench creates (so job containers reach it); a real runner process with the docker executor runs
 * 20 one-job pipelines in turn against the local engine (`scripts/docker-env.sh` brings it up).
 * After each job the runner's `gitlab_runner_job_stage_duration_seconds` sums are scraped: the
 * differences are that job's stage times. Pickup → script start = the stages before step_script.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { createPipeline, createProjectWith, startBenchCoordinator, startBenchRunner } from '../lib/fleet.js';
import { readDockerCalls, summarizeJob } from '../lib/docker-timing.js';
import { OUT, ROOT } from '../lib/paths.js';
import { result, type BenchResult } from '../lib/results.js';
import { median, round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

const exec = promisify(execFile);
const NETWORK = 'flotilla-bench-docker';
const SUBNET = '10.79.0.0/24';
const GATEWAY = '10.79.0.1';
/** Issue 12's target: pickup → script start, p50, on the local engine. */
export const DOCKER_TARGET_S = 0.4;
const BEFORE_SCRIPT = [
  'prepare_executor',
  'prepare_script',
  'get_sources',
  'restore_cache',
  'download_artifacts',
];

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** stage → summed seconds, from the runner's /metrics. */
async function stageSums(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const sums = new Map<string, number>();
  for (const m of text.matchAll(/^gitlab_runner_job_stage_duration_seconds_sum\{([^}]*)\} (\S+)$/gm)) {
    const stage = /stage="([^"]+)"/.exec(m[1] ?? '')?.[1];
    if (stage) sums.set(stage, (sums.get(stage) ?? 0) + Number(m[2]));
  }
  return sums;
}

export async function runDocker(options: BenchOptions): Promise<BenchResult[]> {
  await exec('bash', [path.join(ROOT, 'scripts', 'docker-env.sh')], { timeout: 600_000 });
  // The storage driver decides what a container costs (vfs copies the whole image per container).
  const driver = (await exec('docker', ['info', '--format', '{{.Driver}}'])).stdout.trim();
  await exec('docker', ['network', 'rm', NETWORK]).catch(() => undefined);
  await exec('docker', [
    'network',
    'create',
    '--subnet',
    SUBNET,
    '--gateway',
    GATEWAY,
    '--label',
    'com.flotilla.bench=true',
    NETWORK,
  ]);
  const coordinator = await startBenchCoordinator({
    listen: `${GATEWAY}:0`,
    prefix: 'flotilla-bench-docker-',
  });
  const timingFile = path.join(coordinator.dir, 'docker-calls.jsonl');
  try {
    const { token } = await coordinator.api.createRunner({ description: 'bench-docker' });
    const port = await freePort();
    const runner = await startBenchRunner({
      url: coordinator.url,
      token,
      dir: path.join(coordinator.dir, 'runner'),
      executor: 'docker',
      listenAddress: `127.0.0.1:${port}`,
      nodeArgs: ['--import', pathToFileURL(path.join(OUT, 'lib', 'docker-timing.js')).href],
      env: { FLOTILLA_BENCH_DOCKER_TIMING: timingFile },
      extraRunner: [
        '  [runners.docker]',
        '    image = "busybox:latest"',
        '    pull_policy = "if-not-present"',
        `    network_mode = "${NETWORK}"`,
      ],
    });
    try {
      const project = await createProjectWith(coordinator, 'docker-trivial', {
        '.gitlab-ci.yml':
          'workflow:\n  auto_cancel:\n    on_new_commit: none\n\nhello:\n  script:\n    - echo hello\n',
      });
      const jobs = options.quick ? 5 : 20;
      const perStage = new Map<string, number[]>();
      const toScript: number[] = [];
      const total: number[] = [];
      const statuses: string[] = [];
      let before = await stageSums(`http://127.0.0.1:${port}/metrics`);
      const callsPerJob: Map<string, { count: number; ms: number }>[] = [];
      let callsSeen = readDockerCalls(timingFile).length;
      for (let i = 0; i < jobs; i++) {
        const pipeline = await createPipeline(coordinator.api, project.id);
        const job = await coordinator.api.until(
          async () => {
            const j = (
              await coordinator.api.get<
                { status: string; started_at: string | null; finished_at: string | null }[]
              >(`/projects/${project.id}/pipelines/${pipeline.id}/jobs`)
            ).body[0];
            return j && ['success', 'failed', 'canceled'].includes(j.status) ? j : undefined;
          },
          'the docker job',
          600,
          100,
        );
        statuses.push(job.status);
        total.push((Date.parse(job.finished_at ?? '') - Date.parse(job.started_at ?? '')) / 1000);
        const after = await stageSums(`http://127.0.0.1:${port}/metrics`);
        let pre = 0;
        for (const [stage, sum] of after) {
          const d = sum - (before.get(stage) ?? 0);
          if (!perStage.has(stage)) perStage.set(stage, []);
          perStage.get(stage)!.push(d);
          if (BEFORE_SCRIPT.includes(stage)) pre += d;
        }
        toScript.push(pre);
        before = after;
        const calls = readDockerCalls(timingFile);
        callsPerJob.push(summarizeJob(calls.slice(callsSeen)));
        callsSeen = calls.length;
      }
      const stages = Object.fromEntries(
        [...perStage].map(([stage, xs]) => [`${stage}_s_p50`, round(median(xs), 3)]),
      );
      const apiCalls = dockerCallTable(callsPerJob);
      const figures = {
        pickup_to_script_s_p50: round(median(toScript), 3),
        api_calls_before_script_p50: median(
          callsPerJob.map((m) => [...m.values()].reduce((n, c) => n + c.count, 0)),
        ),
        api_ms_before_script_p50: round(
          median(callsPerJob.map((m) => [...m.values()].reduce((n, c) => n + c.ms, 0))),
          0,
        ),
        job_total_s_p50: round(median(total), 3),
        successful_jobs: statuses.filter((s) => s === 'success').length,
        ...stages,
      };
      const met = (figures.pickup_to_script_s_p50 ?? Infinity) <= DOCKER_TARGET_S;
      console.log(`  engine: local dockerd, storage driver ${driver}`);
      console.log(
        `  ${jobs} jobs (${figures.successful_jobs} ok): pickup → script p50 ${figures.pickup_to_script_s_p50} s (target ≤ ${DOCKER_TARGET_S} s: ${met ? 'met' : 'SHORT'}), job total p50 ${figures.job_total_s_p50} s`,
      );
      console.log(
        `  Docker API before the script, per job p50: ${figures.api_calls_before_script_p50} calls, ${figures.api_ms_before_script_p50} ms in all; by call (count, p50 ms):`,
      );
      for (const row of apiCalls) console.log(`    ${row.kind}: ${row.count} × ${row.msP50} ms`);
      console.log(
        `  stages p50: ${Object.entries(stages)
          .map(([k, v]) => `${k.replace('_s_p50', '')} ${v}`)
          .join(', ')}`,
      );
      return [
        result(
          'docker',
          'docker executor overhead, trivial job',
          {
            jobs,
            image: 'busybox:latest',
            pullPolicy: 'if-not-present',
            gitStrategy: 'fetch (default)',
            concurrent: 1,
            engine: `local dockerd (${driver})`,
            targets: { pickup_to_script_s_p50: DOCKER_TARGET_S },
          },
          { ...figures, api_calls: JSON.stringify(apiCalls) },
          {
            notes: [
              "api_calls: the runner's Docker Engine API calls of each job up to the creation of its step_script container (timed in the runner process by a preloaded http.request wrapper), per call kind: median count and median summed ms per job",
              'job_total: finished_at − started_at on the coordinator; stage times from the runner metric gitlab_runner_job_stage_duration_seconds (sum difference per job); pickup_to_script = prepare_executor + prepare_script + get_sources + restore_cache + download_artifacts',
              'published reference (not measured here): GitLab issue 8813 reports a `sleep 10` job taking 60 s on GitLab Runner',
            ],
          },
        ),
      ];
    } finally {
      await runner.stop();
    }
  } finally {
    await coordinator.stop();
    await exec('docker', ['network', 'rm', NETWORK]).catch(() => undefined);
  }
}

/** Per call kind: median count per job and the median of its summed ms per job (slowest first). */
function dockerCallTable(
  jobs: Map<string, { count: number; ms: number }>[],
): { kind: string; count: number; msP50: number }[] {
  const kinds = new Set(jobs.flatMap((m) => [...m.keys()]));
  return [...kinds]
    .map((kind) => ({
      kind,
      count: median(jobs.map((m) => m.get(kind)?.count ?? 0)) ?? 0,
      msP50: round(median(jobs.map((m) => m.get(kind)?.ms ?? 0)), 1) ?? 0,
    }))
    .sort((a, b) => b.msP50 - a.msP50);
}
