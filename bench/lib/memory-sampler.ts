/**
 * Samples a coordinator's memory over a run (the load part): every few seconds its RSS (from
 * /proc), its heap used (`flotilla_coordinator_nodejs_heap_size_used_bytes` on its /metrics) and
 * the jobs done so far; and, when the coordinator runs with `--trace-gc`, the heap left after each
 * mark-compact, read from its output as it comes.
 */
import type { BenchProcess } from './proc.js';
import { readRss } from './proc.js';
import { markCompactAfterMiB, type MemorySample } from './memory-trend.js';

const HEAP_USED = /^flotilla_coordinator_nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m;

async function heapUsedMiB(url: string): Promise<number | null> {
  try {
    const res = await fetch(`${url}/metrics`);
    const m = HEAP_USED.exec(await res.text());
    return m ? Number(m[1]) / 2 ** 20 : null;
  } catch {
    return null;
  }
}

export class MemorySampler {
  readonly samples: MemorySample[] = [];
  /** Every mark-compact seen: second of the run, heap after it (MiB). */
  readonly fullGcs: { s: number; mib: number }[] = [];
  readonly #started = Date.now();
  readonly #timer: NodeJS.Timeout;
  #busy = false;
  #partial = '';

  constructor(
    private readonly proc: BenchProcess,
    private readonly url: string,
    private readonly jobsDone: () => Promise<number>,
    intervalMs = 5000,
  ) {
    proc.child.stdout?.on('data', (d: Buffer) => this.#read(d.toString()));
    void this.take();
    this.#timer = setInterval(() => void this.take(), intervalMs);
  }

  #second(): number {
    return Math.round((Date.now() - this.#started) / 1000);
  }

  #read(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      const mib = markCompactAfterMiB(line);
      if (mib !== null) this.fullGcs.push({ s: this.#second(), mib });
    }
  }

  async take(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const rss = readRss(this.proc.pid);
      const heap = await heapUsedMiB(this.url);
      const jobs = await this.jobsDone().catch(() => this.samples.at(-1)?.jobs ?? 0);
      if (rss)
        this.samples.push({
          s: this.#second(),
          jobs,
          rssMiB: rss.rssMiB,
          heapUsedMiB: heap,
          retainedMiB: this.fullGcs.at(-1)?.mib ?? null,
        });
    } finally {
      this.#busy = false;
    }
  }

  async stop(): Promise<MemorySample[]> {
    clearInterval(this.#timer);
    while (this.#busy) await new Promise((r) => setTimeout(r, 50));
    await this.take();
    return this.samples;
  }
}
