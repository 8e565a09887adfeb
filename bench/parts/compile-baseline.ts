/**
 * Part 7b: pipeline creation against another commit (`--compile-baseline REF`), measured in one
 * process: `compilePipeline` of REF and of this checkout are bundled side by side and run in
 * alternation (ABBA), so both see the same machine load; the figure is the median of the paired
 * CPU-time ratios (this checkout ÷ REF) — on a loaded machine, separate runs differ by more
 * than the change being measured.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { build } from 'esbuild';

import type { PipelineContext } from '../../src/pipeline/types.js';
import { ROOT } from '../lib/paths.js';
import { result, type BenchResult } from '../lib/results.js';
import { median, round } from '../lib/stats.js';
import { compileContext, compileWorkloads, type Workload } from './compile.js';

const run = promisify(execFile);

interface Engine {
  compilePipeline(text: string, ctx: PipelineContext): Promise<{ ok: boolean }>;
}

/** `src/pipeline/compile.ts` of the tree at `root`, bundled into `outFile` and loaded. */
async function loadEngine(root: string, outFile: string): Promise<Engine> {
  await build({
    entryPoints: [path.join(root, 'src', 'pipeline', 'compile.ts')],
    outfile: outFile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    nodePaths: [path.join(ROOT, 'node_modules')],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  return (await import(pathToFileURL(outFile).href)) as Engine;
}

/** CPU milliseconds per compile of `k` texts of `w`. */
async function cpuPerCompile(engine: Engine, w: Workload, k: number, next: () => number): Promise<number> {
  const ctx = compileContext(w.dir);
  const texts = Array.from({ length: k }, () => w.text(next()));
  const c0 = process.cpuUsage();
  for (const text of texts) {
    const r = await engine.compilePipeline(text, ctx);
    if (!r.ok) throw new Error(`${w.name} does not compile`);
  }
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1000 / k;
}

export async function runCompileBaseline(ref: string, quick: boolean): Promise<BenchResult[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-compile-baseline-'));
  const tree = path.join(dir, 'tree');
  await run('git', ['-C', ROOT, 'worktree', 'add', '--detach', tree, ref]);
  try {
    const before = await loadEngine(tree, path.join(dir, 'before.mjs'));
    const after = await loadEngine(ROOT, path.join(dir, 'after.mjs'));
    const pairs = quick ? 8 : 40;
    const out: BenchResult[] = [];
    let n = 0;
    const next = (): number => n++;
    for (const [w, iterations] of await compileWorkloads()) {
      const k = Math.max(1, Math.round(iterations / 4));
      for (let i = 0; i < 3; i++)
        await cpuPerCompile(before, w, k, next).then(() => cpuPerCompile(after, w, k, next));
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < pairs; i++) {
        // ABBA: which engine runs first alternates, so neither always gets the warmer caches.
        let x: number;
        let y: number;
        if (i % 2 === 0) {
          x = await cpuPerCompile(before, w, k, next);
          y = await cpuPerCompile(after, w, k, next);
        } else {
          y = await cpuPerCompile(after, w, k, next);
          x = await cpuPerCompile(before, w, k, next);
        }
        a.push(x);
        b.push(y);
      }
      const figures = {
        cpu_ms_baseline_median: round(median(a), 3),
        cpu_ms_median: round(median(b), 3),
        paired_ratio_median: round(median(b.map((y, i) => y / (a[i] ?? y))), 3),
      };
      console.log(
        `  ${w.name}: CPU ${figures.cpu_ms_median} ms per compile against ${figures.cpu_ms_baseline_median} ms at ${ref}; median paired ratio ${figures.paired_ratio_median} (${pairs} pairs × ${k})`,
      );
      out.push(result('compile', `${w.name} vs ${ref}`, { pairs, iterations: k, baseline: ref }, figures));
    }
    return out;
  } finally {
    await run('git', ['-C', ROOT, 'worktree', 'remove', '--force', tree]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
