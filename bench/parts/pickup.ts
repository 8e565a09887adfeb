/**
 * Part 2: job pickup latency. N synthetic runners (1, 10, 100) long-poll from a separate process;
 * pipelines of four parallel jobs are created over the REST API at a steady pace; latency = the job's
 * `started_at` − the pipeline's `created_at` (both stamped by the coordinator). The settings run in
 * two halves, the order reversed in the second, so drifting machine load hits every setting.
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
import { sleep } from '../lib/proc.js';
import { result, type BenchResult } from '../lib/results.js';
import { summary } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

const SETTINGS = [1, 10, 100];
const PACE_MS = 100;
/** Jobs per pipeline (`parallel`): four jobs queued at once per pipeline. */
const JOBS_PER_PIPELINE = 4;

interface Sample {
  pickupMs: number[];
  clientMs: number[];
  createMs: number[];
}

async function half(
  coordinator: BenchCoordinator,
  projectId: number,
  clients: number,
  tokens: string[],
  pipelines: number,
  tag: string,
): Promise<Sample> {
  const fleet = await startClients({
    url: coordinator.url,
    tokens,
    clients,
    statsFile: path.join(coordinator.dir, `pickup-${tag}.json`),
  });
  const created: { id: number; createdAt: number; sentAt: number; answeredAt: number }[] = [];
  let failure: unknown = null;
  try {
    const start = performance.now();
    for (let i = 0; i < pipelines; i++) {
      const wait = start + i * PACE_MS - performance.now();
      if (wait > 0) await sleep(wait);
      const sentAt = Date.now();
      const p = await createPipeline(coordinator.api, projectId);
      created.push({ id: p.id, createdAt: Date.parse(p.created_at), sentAt, answeredAt: Date.now() });
    }
    await coordinator.api.until(
      async () => {
        const res = await coordinator.api.get<{ status: string }[]>(
          `/projects/${projectId}/pipelines?per_page=100&status=pending`,
        );
        const running = await coordinator.api.get<{ status: string }[]>(
          `/projects/${projectId}/pipelines?per_page=100&status=running`,
        );
        return res.body.length === 0 && running.body.length === 0;
      },
      'the pickup pipelines to finish',
      300,
      100,
    );
  } catch (err) {
    failure = err;
  }
  const stats = await fleet.stats();
  if (failure) throw failure;
  const out: Sample = { pickupMs: [], clientMs: [], createMs: created.map((p) => p.answeredAt - p.sentAt) };
  for (const p of created) {
    const jobs = (
      await coordinator.api.get<{ id: number; started_at: string | null }[]>(
        `/projects/${projectId}/pipelines/${p.id}/jobs`,
      )
    ).body;
    for (const job of jobs) {
      if (job.started_at) out.pickupMs.push(Date.parse(job.started_at) - p.createdAt);
      const got = stats.received[String(job.id)];
      if (got) out.clientMs.push(got - p.sentAt);
    }
  }
  return out;
}

export async function runPickup(options: BenchOptions): Promise<BenchResult[]> {
  const pipelinesPerHalf = options.quick ? 8 : 100 / JOBS_PER_PIPELINE;
  const coordinator = await startBenchCoordinator({ prefix: 'flotilla-bench-pickup-' });
  try {
    const project = await createProjectWith(coordinator, 'pickup', {
      '.gitlab-ci.yml': noopPipeline(JOBS_PER_PIPELINE),
    });
    const samples = new Map<number, Sample>(
      SETTINGS.map((n) => [n, { pickupMs: [], clientMs: [], createMs: [] }]),
    );
    for (const order of [SETTINGS, [...SETTINGS].reverse()]) {
      for (const n of order) {
        // Fresh runners for each half: the idle ones of another setting are not left polling.
        const tokens = await createRunners(coordinator.api, n);
        const s = await half(coordinator, project.id, n, tokens, pipelinesPerHalf, `${n}-${order[0]}`);
        samples.get(n)!.pickupMs.push(...s.pickupMs);
        samples.get(n)!.clientMs.push(...s.clientMs);
        samples.get(n)!.createMs.push(...s.createMs);
      }
    }
    return SETTINGS.map((n) => {
      const s = samples.get(n)!;
      const api = summary(s.pickupMs);
      const client = summary(s.clientMs);
      const create = summary(s.createMs);
      console.log(
        `  ${n} polling runner(s): started_at − created_at p50 ${api.p50} ms, p95 ${api.p95} ms, p99 ${api.p99} ms (n=${api.n}); client-observed p50 ${client.p50} ms, p99 ${client.p99} ms; POST /pipeline p50 ${create.p50} ms`,
      );
      return result(
        'pickup',
        `job pickup latency, ${n} idle runner${n === 1 ? '' : 's'} long-polling`,
        {
          pollingRunners: n,
          jobs: api.n,
          jobsPerPipeline: JOBS_PER_PIPELINE,
          pipelinePaceMs: PACE_MS,
          longPollSeconds: 50,
          taker: 'synthetic Runner-API clients (separate process), no-op jobs',
          halves: 2,
        },
        {
          p50_ms: api.p50,
          p95_ms: api.p95,
          p99_ms: api.p99,
          client_p50_ms: client.p50,
          client_p95_ms: client.p95,
          client_p99_ms: client.p99,
          create_pipeline_p50_ms: create.p50,
          create_pipeline_p95_ms: create.p95,
        },
        {
          notes: [
            'p*_ms: job started_at − pipeline created_at (coordinator clock); client_*: POST /pipeline sent → job payload received by a client (includes the POST itself)',
          ],
        },
      );
    });
  } finally {
    await coordinator.stop();
  }
}
