/**
 * Part 2: job pickup latency. N synthetic runners (1, 10, 100) long-poll from a separate process;
 * pipelines of four parallel jobs are created over the REST API at a steady pace; latency = the job's
 * `started_at` − the pipeline's `created_at` (both stamped by the coordinator). The settings run in
 * two halves, the order reversed in the second, so drifting machine load hits every setting. Each
 * setting runs on SQLite and on PostgreSQL (`--database`), one right after the other.
 */
import path from 'node:path';

import { createRunners, startClients } from '../lib/clients.js';
import { storeLabel, storesFor, type StoreKind } from '../lib/database.js';
import { createPipeline, startStoreTarget, type BenchCoordinator, type StoreTarget } from '../lib/fleet.js';
import { sleep } from '../lib/proc.js';
import { result, type BenchResult } from '../lib/results.js';
import { ratio, summary } from '../lib/stats.js';
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

const PART = 'pickup';

type Target = StoreTarget;

const startTarget = (kind: StoreKind, cpuProfDir: string | undefined): Promise<Target> =>
  startStoreTarget(PART, kind, JOBS_PER_PIPELINE, cpuProfDir);

function figuresOf(s: Sample) {
  const api = summary(s.pickupMs);
  const client = summary(s.clientMs);
  const create = summary(s.createMs);
  return {
    jobs: api.n,
    p50_ms: api.p50,
    p95_ms: api.p95,
    p99_ms: api.p99,
    client_p50_ms: client.p50,
    client_p95_ms: client.p95,
    client_p99_ms: client.p99,
    create_pipeline_p50_ms: create.p50,
    create_pipeline_p95_ms: create.p95,
  };
}

export async function runPickup(options: BenchOptions): Promise<BenchResult[]> {
  const pipelinesPerHalf = options.quick ? 8 : 100 / JOBS_PER_PIPELINE;
  const stores = await storesFor(options.database);
  const targets: Target[] = [];
  try {
    // One coordinator per store, both up for the whole part: each setting runs on one store
    // right after the other, the store order swapped in the second half.
    for (const kind of stores) targets.push(await startTarget(kind, options.cpuProfDir));
    const samples = new Map<string, Sample>();
    const key = (kind: StoreKind, n: number): string => `${kind}:${n}`;
    const orders = [SETTINGS, [...SETTINGS].reverse()];
    for (const [h, order] of orders.entries()) {
      for (const n of order) {
        for (const t of h === 0 ? targets : [...targets].reverse()) {
          // Fresh runners for each half: the idle ones of another setting are not left polling.
          const tokens = await createRunners(t.coordinator.api, n);
          const s = await half(t.coordinator, t.projectId, n, tokens, pipelinesPerHalf, `${n}-${h}`);
          const all = samples.get(key(t.kind, n)) ?? { pickupMs: [], clientMs: [], createMs: [] };
          all.pickupMs.push(...s.pickupMs);
          all.clientMs.push(...s.clientMs);
          all.createMs.push(...s.createMs);
          samples.set(key(t.kind, n), all);
        }
      }
    }
    return stores.flatMap((kind) =>
      SETTINGS.map((n) => {
        const f = figuresOf(samples.get(key(kind, n))!);
        const sqlite = kind === 'postgres' ? samples.get(key('sqlite', n)) : undefined;
        const peer = sqlite ? figuresOf(sqlite) : null;
        console.log(
          `  ${storeLabel(kind)}, ${n} polling runner(s): started_at − created_at p50 ${f.p50_ms} ms, p95 ${f.p95_ms} ms, p99 ${f.p99_ms} ms (n=${f.jobs}); client-observed p50 ${f.client_p50_ms} ms, p99 ${f.client_p99_ms} ms; POST /pipeline p50 ${f.create_pipeline_p50_ms} ms`,
        );
        return result(
          'pickup',
          `job pickup latency, ${n} idle runner${n === 1 ? '' : 's'} long-polling, ${storeLabel(kind)}`,
          {
            pollingRunners: n,
            store: kind,
            jobs: f.jobs,
            jobsPerPipeline: JOBS_PER_PIPELINE,
            pipelinePaceMs: PACE_MS,
            longPollSeconds: 50,
            taker: 'synthetic Runner-API clients (separate process), no-op jobs',
            halves: 2,
          },
          f,
          {
            ...(peer
              ? {
                  peer: { name: 'the same bench on SQLite (same run, alternating)', figures: peer },
                  ratio: {
                    p50_ms: ratio(f.p50_ms, peer.p50_ms),
                    p95_ms: ratio(f.p95_ms, peer.p95_ms),
                    create_pipeline_p50_ms: ratio(f.create_pipeline_p50_ms, peer.create_pipeline_p50_ms),
                  },
                }
              : {}),
            notes: [
              'p*_ms: job started_at − pipeline created_at (coordinator clock); client_*: POST /pipeline sent → job payload received by a client (includes the POST itself)',
            ],
          },
        );
      }),
    );
  } finally {
    for (const t of targets) await t.coordinator.stop();
  }
}
