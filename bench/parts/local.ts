/**
 * Part 1: local pipeline runs, `flotilla run DIR` against `gitlab-ci-local --shell-isolation` on
 * the same repositories, shell executor on both sides, same concurrency. Each round runs both,
 * the order swapped every round; medians of the wall times and their ratio.
 */
import { execFile } from 'node:child_process';
import { access, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { git } from '../../harness/git-repo.js';
import { CLI, PEER_BIN, PEER_DIR } from '../lib/paths.js';
import { result, type BenchResult } from '../lib/results.js';
import { median, ratio, round } from '../lib/stats.js';
import type { BenchOptions } from '../options.js';
import { localPipelines, type LocalPipeline } from './local-pipelines.js';
import { PHASES, runPhases, type Phase } from './local-phases.js';

const exec = promisify(execFile);
const PEER_VERSION = '4.64.1';
const CONCURRENCY = 4;
/** Alternating rounds per pipeline in a full run. */
const ROUNDS = 5;
const cell = (v: unknown): string => (v === null || v === undefined ? '–' : String(v));

/** Issue 12's targets: ratios to the peer (wall and CPU), process start, the DAG's jobs phase. */
const TARGETS = { ratio: 0.5, startSeconds: 0.15, dagJobsSeconds: 1.5 };

/** `name 1.23 (target ≤ 0.5: met|SHORT)`. */
function vsTarget(name: string, value: number | null | undefined, target: number, unit = ''): string {
  const verdict = value === null || value === undefined ? 'no figure' : value <= target ? 'met' : 'SHORT';
  return `${name} ${cell(value)}${unit} (target ≤ ${target}${unit}: ${verdict})`;
}

/** Installs the peer into bench/.peer (its own prefix, never the project's dependencies). */
export async function ensurePeer(): Promise<void> {
  if (
    await access(PEER_BIN).then(
      () => true,
      () => false,
    )
  )
    return;
  console.log(`  installing gitlab-ci-local@${PEER_VERSION} into ${path.relative(process.cwd(), PEER_DIR)}`);
  await exec(
    'npm',
    [
      'install',
      '--prefix',
      PEER_DIR,
      '--no-audit',
      '--no-fund',
      '--no-save',
      `gitlab-ci-local@${PEER_VERSION}`,
    ],
    { timeout: 300_000 },
  );
}

async function makeRepo(dir: string, pipeline: LocalPipeline): Promise<void> {
  await git(path.dirname(dir), 'init', '-q', '-b', 'main', dir);
  await writeFile(path.join(dir, '.gitlab-ci.yml'), pipeline.yaml);
  await writeFile(path.join(dir, 'README.md'), `bench repository: ${pipeline.description}\n`);
  await writeFile(path.join(dir, '.gitignore'), '.gitlab-ci-local/\n');
  await git(dir, 'remote', 'add', 'origin', 'https://gitlab.example/bench/local.git');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'bench');
}

interface Timed {
  seconds: number;
  /** User + system CPU seconds of the command and every process it waited for (bash `time`). */
  cpuSeconds: number | null;
  ok: boolean;
  output: string;
  spawnedAtMs: number;
  exitedAtMs: number;
}

const CPU_LINE = /^CPU-SECONDS (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/m;

async function timed(command: string, args: string[], cwd: string): Promise<Timed> {
  const start = performance.now();
  const spawnedAtMs = Date.now();
  const done = (ok: boolean, output: string): Timed => {
    const cpu = CPU_LINE.exec(output);
    return {
      seconds: (performance.now() - start) / 1000,
      cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : null,
      ok,
      output: output.replace(CPU_LINE, ''),
      spawnedAtMs,
      exitedAtMs: Date.now(),
    };
  };
  try {
    // bash's `time` adds the CPU time of the command and all the processes it waited for.
    const script = 'TIMEFORMAT="CPU-SECONDS %U %S"; time "$@"';
    const { stdout, stderr } = await exec('bash', ['-c', script, 'bash', command, ...args], {
      cwd,
      timeout: 300_000,
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    return done(true, stdout + stderr);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return done(false, `${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

// Shell executor on both sides (`auto` would pick docker when an engine is there). `--verbose`
// adds the embedded services' log lines (a few per job), whose timestamps give the phases.
const runFlotilla = (dir: string): Promise<Timed> =>
  timed(
    process.execPath,
    [CLI, 'run', '--no-color', '--verbose', '--executor', 'shell', '--concurrent', String(CONCURRENCY), dir],
    dir,
  );
const runPeer = (dir: string): Promise<Timed> =>
  timed(
    process.execPath,
    [PEER_BIN, '--shell-isolation', '--no-color', '--concurrency', String(CONCURRENCY)],
    dir,
  );

async function benchOne(pipeline: LocalPipeline, rounds: number, scratch: string): Promise<BenchResult> {
  const base = path.join(scratch, pipeline.name);
  await makeRepo(base, pipeline);
  const ours: number[] = [];
  const theirs: number[] = [];
  const cpu = { f: [] as number[], p: [] as number[] };
  const phases = new Map<Phase, number[]>(PHASES.map((p) => [p, []]));
  const failures: string[] = [];
  for (let r = 0; r < rounds; r++) {
    // A fresh copy for each tool and round: neither sees the other's leftovers.
    const a = `${base}-f${r}`;
    const b = `${base}-p${r}`;
    await cp(base, a, { recursive: true });
    await cp(base, b, { recursive: true });
    const order: ['f' | 'p', string][] =
      r % 2 === 0
        ? [
            ['f', a],
            ['p', b],
          ]
        : [
            ['p', b],
            ['f', a],
          ];
    for (const [who, dir] of order) {
      const t = who === 'f' ? await runFlotilla(dir) : await runPeer(dir);
      if (!t.ok)
        failures.push(`${who === 'f' ? 'flotilla' : 'gitlab-ci-local'} round ${r}: ${t.output.slice(-400)}`);
      (who === 'f' ? ours : theirs).push(t.seconds);
      if (t.cpuSeconds !== null) cpu[who].push(t.cpuSeconds);
      const split = who === 'f' && t.ok ? runPhases(t.output, t.spawnedAtMs, t.exitedAtMs) : null;
      if (split) for (const p of PHASES) phases.get(p)?.push(split[p] / 1000);
    }
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
  const fm = median(ours);
  const pm = median(theirs);
  const fc = median(cpu.f);
  const pc = median(cpu.p);
  const phaseMedians = Object.fromEntries(
    PHASES.map((p) => [`phase_${p}_s_median`, round(median(phases.get(p) ?? []), 3)]),
  );
  const start = phaseMedians['phase_start_s_median'];
  const jobsPhase = phaseMedians['phase_jobs_s_median'];
  console.log(
    `  ${pipeline.name}: flotilla ${round(fm, 2)} s, gitlab-ci-local ${round(pm, 2)} s (medians of ${rounds}); ` +
      `${vsTarget('wall ratio', ratio(fm, pm), TARGETS.ratio)}; CPU ${round(fc, 2)} s vs ${round(pc, 2)} s, ` +
      `${vsTarget('CPU ratio', ratio(fc, pc), TARGETS.ratio)}`,
  );
  console.log(
    `    ${vsTarget('process start', start, TARGETS.startSeconds, ' s')}` +
      (pipeline.name === 'needs-dag-50'
        ? `; ${vsTarget('jobs phase', jobsPhase, TARGETS.dagJobsSeconds, ' s')}`
        : ''),
  );
  console.log(
    `    flotilla phases (medians, s): ${PHASES.map((p) => `${p} ${cell(phaseMedians[`phase_${p}_s_median`])}`).join(', ')}`,
  );
  for (const f of failures) console.log(`    FAILED ${f}`);
  return result(
    'local',
    `local run: ${pipeline.description}`,
    {
      pipeline: pipeline.name,
      jobs: pipeline.jobs,
      rounds,
      concurrency: CONCURRENCY,
      executor: 'shell',
      alternating: true,
      flotillaArgs: '--executor shell --verbose',
      targets: {
        wall_ratio: TARGETS.ratio,
        cpu_ratio: TARGETS.ratio,
        phase_start_s: TARGETS.startSeconds,
        ...(pipeline.name === 'needs-dag-50' ? { phase_jobs_s: TARGETS.dagJobsSeconds } : {}),
      },
    },
    {
      wall_s_median: round(fm, 3),
      wall_s_min: round(Math.min(...ours), 3),
      wall_s_max: round(Math.max(...ours), 3),
      cpu_s_median: round(fc, 3),
      failed_runs: failures.filter((f) => f.startsWith('flotilla')).length,
      ...phaseMedians,
    },
    {
      peer: {
        name: `gitlab-ci-local ${PEER_VERSION} --shell-isolation`,
        figures: {
          wall_s_median: round(pm, 3),
          wall_s_min: round(Math.min(...theirs), 3),
          wall_s_max: round(Math.max(...theirs), 3),
          cpu_s_median: round(pc, 3),
          failed_runs: failures.filter((f) => f.startsWith('gitlab')).length,
        },
      },
      ratio: { wall_s_median: ratio(fm, pm), cpu_s_median: ratio(fc, pc) },
      notes: failures.map((f) => f.slice(0, 300)),
    },
  );
}

export async function runLocal(options: BenchOptions): Promise<BenchResult[]> {
  await ensurePeer();
  const scratch = await mkdtemp(path.join(tmpdir(), 'flotilla-bench-local-'));
  try {
    const out: BenchResult[] = [];
    for (const p of localPipelines()) {
      const rounds = options.quick ? 1 : ROUNDS;
      out.push(await benchOne(p, rounds, scratch));
    }
    return out;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
