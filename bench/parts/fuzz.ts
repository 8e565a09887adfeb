/**
 * Part 7: the fuzz runs of the test suite, longer. The pipeline engine gets N generated
 * `.gitlab-ci.yml` texts (compile + lint each; crashes, errors without a position, slowest input,
 * heap growth); an in-process coordinator gets M generated HTTP requests over its route table
 * (answers by status class, 5xx count, slowest request, RSS growth). Memory: besides the raw
 * growth of heapUsed / RSS (GC timing shows in it), the heap retained after a forced full GC is
 * sampled ten times over each run, with its slope per 1,000 inputs, to tell a leak from GC noise. Seeds differ from the test
 * command's, so the bench explores inputs the tests do not. Nothing asserts; failures are counted.
 */
import fc from 'fast-check';

import { fuzzRequest } from '../../harness/fuzz/http-arbitraries.js';
import { anyPipeline } from '../../harness/fuzz/pipeline-arbitraries.js';
import { checkPipelineText } from '../../harness/fuzz/pipeline-property.js';
import { startTestCoordinator } from '../../harness/in-process-coordinator.js';
import { retainedHeapMiB } from '../lib/forced-gc.js';
import { slopePer1000, type MemorySample } from '../lib/memory-trend.js';
import { result, type BenchResult, type Figures } from '../lib/results.js';
import { round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';

const SEED = 4242;

/** Heap retained after a forced GC, sampled every tenth of a run against the inputs done. */
class RetainedHeap {
  readonly samples: MemorySample[] = [];
  constructor(private readonly runs: number) {
    this.take(0);
  }

  /** Samples at each tenth of the run, but not at its end (`take(runs)` after the raw figures). */
  maybeTake(done: number): void {
    if (done < this.runs && done % Math.max(1, Math.floor(this.runs / 10)) === 0) this.take(done);
  }

  take(done: number): void {
    const mib = retainedHeapMiB();
    this.samples.push({
      s: 0,
      jobs: done,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
      heapUsedMiB: mib,
      retainedMiB: mib,
    });
  }

  figures(): Figures {
    const first = this.samples[0]?.retainedMiB ?? null;
    const last = this.samples.at(-1)?.retainedMiB ?? null;
    return {
      retained_heap_first_mib: round(first, 1),
      retained_heap_last_mib: round(last, 1),
      retained_heap_growth_mib: first === null || last === null ? null : round(last - first, 1),
      retained_heap_mib_per_1000_inputs: round(slopePer1000(this.samples, 'retainedMiB'), 2),
      retained_heap_over_run_mib: this.samples.map((x) => x.retainedMiB?.toFixed(1) ?? '-').join(' '),
    };
  }
}

async function fuzzPipelines(runs: number): Promise<BenchResult> {
  const heapBefore = process.memoryUsage().heapUsed;
  const retained = new RetainedHeap(runs);
  let done = 0;
  let valid = 0;
  let failures = 0;
  let slowestMs = 0;
  const examples: string[] = [];
  const started = performance.now();
  for (const text of fc.sample(anyPipeline, { seed: SEED, numRuns: runs })) {
    const t0 = performance.now();
    try {
      if ((await checkPipelineText(text)).valid) valid++;
    } catch (err) {
      failures++;
      if (examples.length < 3)
        examples.push(`${JSON.stringify(text).slice(0, 120)}: ${String(err).slice(0, 160)}`);
    }
    slowestMs = Math.max(slowestMs, performance.now() - t0);
    retained.maybeTake(++done);
  }
  const seconds = (performance.now() - started) / 1000;
  const figures = {
    inputs: runs,
    valid,
    failures,
    inputs_per_s: round(runs / seconds, 1),
    slowest_input_ms: round(slowestMs, 1),
    heap_growth_mb: round((process.memoryUsage().heapUsed - heapBefore) / 1e6, 1),
  };
  retained.take(runs);
  Object.assign(figures, retained.figures());
  console.log(`  pipeline fuzz: ${JSON.stringify(figures)}`);
  for (const e of examples) console.log(`    failure: ${e}`);
  return result('fuzz', 'pipeline engine', { seed: SEED, runs }, figures, { notes: examples });
}

async function fuzzHttp(runs: number): Promise<BenchResult> {
  const c = await startTestCoordinator({ longPollSeconds: 1 });
  try {
    await c.api.createProject('fuzz');
    const rssBefore = process.memoryUsage().rss;
    const retained = new RetainedHeap(runs);
    let done = 0;
    const byClass: Record<string, number> = {};
    const examples: string[] = [];
    let slowestMs = 0;
    const started = performance.now();
    for (const request of fc.sample(fuzzRequest(c.running.coordinator.routes, c.running.rootToken), {
      seed: SEED,
      numRuns: runs,
    })) {
      const t0 = performance.now();
      const res = await fetch(`${c.running.url}${request.path}`, {
        method: request.method,
        headers: request.headers,
        ...(request.body ? { body: request.body } : {}),
      }).catch(() => null);
      await res?.arrayBuffer();
      const cls = res ? `${String(res.status)[0]}xx` : 'no_answer';
      byClass[cls] = (byClass[cls] ?? 0) + 1;
      if ((cls === '5xx' || cls === 'no_answer') && examples.length < 3)
        examples.push(`${request.method} ${request.path.slice(0, 100)}: ${res?.status ?? 'no answer'}`);
      slowestMs = Math.max(slowestMs, performance.now() - t0);
      retained.maybeTake(++done);
    }
    const seconds = (performance.now() - started) / 1000;
    const figures = {
      requests: runs,
      ...Object.fromEntries(Object.entries(byClass).map(([k, v]) => [`answers_${k}`, v])),
      failures: (byClass['5xx'] ?? 0) + (byClass['no_answer'] ?? 0),
      requests_per_s: round(runs / seconds, 1),
      slowest_request_ms: round(slowestMs, 1),
      rss_growth_mb: round((process.memoryUsage().rss - rssBefore) / 1e6, 1),
    };
    retained.take(runs);
    Object.assign(figures, retained.figures());
    console.log(`  HTTP fuzz: ${JSON.stringify(figures)}`);
    for (const e of examples) console.log(`    failure: ${e}`);
    return result('fuzz', 'HTTP routes', { seed: SEED, runs }, figures, { notes: examples });
  } finally {
    await c.stop();
  }
}

export async function runFuzz(options: BenchOptions): Promise<BenchResult[]> {
  return [await fuzzPipelines(options.quick ? 1000 : 10_000), await fuzzHttp(options.quick ? 1000 : 10_000)];
}
