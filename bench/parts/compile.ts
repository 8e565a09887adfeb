/**
 * Part 7: pipeline creation in the engine. How long `compilePipeline` takes for the examples and
 * for a generated 200-job configuration with `extends`, `rules:if` regexes, `rules:changes` globs
 * and YAML-1.1-looking scalars, in this process (no HTTP, no store). "Fresh patterns" salts every
 * regex and glob per compile, so no compiled pattern is reused between compiles; "same file"
 * compiles one file again and again, as a coordinator does for a busy project.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { compilePipeline } from '../../src/pipeline/compile.js';
import type { PipelineContext } from '../../src/pipeline/types.js';
import { ROOT } from '../lib/paths.js';
import { result, type BenchResult } from '../lib/results.js';
import { median, percentile, round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';
import { runCompileBaseline } from './compile-baseline.js';

const JOBS = 200;

/** The pipeline context every compile of the bench gets (a push to a feature branch). */
export function compileContext(dir: string | null): PipelineContext {
  return {
    ref: 'feature/x-1',
    sha: 'abc',
    beforeSha: '000',
    tag: false,
    source: 'push',
    defaultBranch: 'main',
    projectPath: 'group/project',
    variables: {
      CI_COMMIT_BRANCH: 'feature/x-1',
      CI_COMMIT_REF_NAME: 'feature/x-1',
      CI_DEFAULT_BRANCH: 'main',
      CI_COMMIT_MESSAGE: 'fix: a thing\n\nlonger body',
      CI_PIPELINE_SOURCE: 'push',
    },
    changedFiles: ['src/a/b.ts', 'docs/readme.md', 'pkg/7/index.ts'],
    listFiles: () => Promise.resolve(['Dockerfile', 'package.json', 'src/a/b.ts']),
    readFile: (p) => (dir ? readFile(path.join(dir, p), 'utf8').catch(() => null) : Promise.resolve(null)),
  };
}

/** A 200-job configuration; `salt` makes every pattern text unique. */
export function generatedPipeline(salt: string): string {
  const lines = [
    'stages: [build, test, deploy]',
    'variables:',
    '  VERSION: 1.10',
    '  BUILD_ID: 1e3',
    '  FLAG: yes',
    '.base:',
    '  image: node:20',
    '  before_script: [npm ci]',
    '  variables: {SHARD_TOTAL: 200, e01: x}',
    'build:',
    '  stage: build',
    '  script: [npm run build]',
    '  rules:',
    `    - if: '$CI_COMMIT_BRANCH =~ /^(main|release-\\d+)-${salt}$/'`,
    '    - when: on_success',
  ];
  for (let i = 0; i < JOBS; i++) {
    lines.push(
      `job-${i}:`,
      '  extends: .base',
      '  stage: test',
      `  script: ["npm test -- --shard=${i}"]`,
      '  needs: [build]',
      '  rules:',
      `    - if: '$CI_COMMIT_MESSAGE =~ /skip-${i}-${salt}/i'`,
      '      when: never',
      `    - if: '$CI_COMMIT_BRANCH =~ /^feature\\/[\\p{L}\\d-]+-${salt}$/ || $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'`,
      `    - changes: ["pkg/${i}/**/*", "src/**/*.{ts,js}", "docs/${salt}/**"]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface Workload {
  name: string;
  dir: string | null;
  /** The file to compile for iteration `i`. */
  text: (i: number) => string;
}

/**
 * Per-compile milliseconds, wall and CPU (this process's user + system time, less disturbed by
 * other processes on a loaded machine): the mean of each round of `iterations` compiles.
 */
async function measure(
  w: Workload,
  rounds: number,
  iterations: number,
): Promise<{ wall: number[]; cpu: number[] }> {
  const ctx = compileContext(w.dir);
  for (let i = 0; i < 5; i++) await mustCompile(w.text(-1 - i), ctx, w.name);
  const wall: number[] = [];
  const cpu: number[] = [];
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    const texts = Array.from({ length: iterations }, () => w.text(n++));
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const text of texts) await mustCompile(text, ctx, w.name);
    const c1 = process.cpuUsage(c0);
    wall.push((performance.now() - t0) / iterations);
    cpu.push((c1.user + c1.system) / 1000 / iterations);
  }
  return { wall, cpu };
}

async function mustCompile(text: string, ctx: PipelineContext, name: string): Promise<void> {
  const r = await compilePipeline(text, ctx);
  if (!r.ok) throw new Error(`${name}: ${r.errors.map((e) => e.message).join('; ')}`);
}

/** The bench's workloads with their iterations per round. */
export async function compileWorkloads(): Promise<[Workload, number][]> {
  const examples = await Promise.all(
    ['hello-pipeline', 'advanced-pipeline'].map(async (name) => {
      const dir = path.join(ROOT, 'examples', name);
      const text = await readFile(path.join(dir, '.gitlab-ci.yml'), 'utf8');
      return { name: `example ${name}`, dir, text: () => text };
    }),
  );
  return [
    ...examples.map((w): [Workload, number] => [w, 200]),
    [{ name: `${JOBS} jobs, same file`, dir: null, text: () => generatedPipeline('s') }, 10],
    [{ name: `${JOBS} jobs, fresh patterns`, dir: null, text: (i) => generatedPipeline(`p${i}`) }, 10],
  ];
}

export async function runCompile(options: BenchOptions): Promise<BenchResult[]> {
  const rounds = options.quick ? 3 : 9;
  const out: BenchResult[] = [];
  for (const [w, iterations] of await compileWorkloads()) {
    const { wall, cpu } = await measure(w, rounds, iterations);
    const figures = {
      ms_per_compile_median: round(median(wall), 3),
      ms_per_compile_p90: round(percentile(wall, 90), 3),
      cpu_ms_per_compile_median: round(median(cpu), 3),
      cpu_ms_per_compile_min: round(Math.min(...cpu), 3),
    };
    console.log(
      `  ${w.name}: ${figures.ms_per_compile_median} ms per compile (median of ${rounds} rounds × ${iterations}; p90 ${figures.ms_per_compile_p90}); CPU ${figures.cpu_ms_per_compile_median} ms (min ${figures.cpu_ms_per_compile_min})`,
    );
    out.push(result('compile', w.name, { rounds, iterations }, figures));
  }
  if (options.compileBaseline)
    out.push(...(await runCompileBaseline(options.compileBaseline, options.quick)));
  return out;
}
