/** Prints bench/results/latest.json as the Markdown tables of docs/benchmarks.md. */
import { readFile } from 'node:fs/promises';

import { RESULTS_FILE } from './lib/paths.js';
import type { BenchResult, Figures, ResultsFile } from './lib/results.js';

const cell = (v: unknown): string => (v === null || v === undefined ? '–' : String(v));

function table(headers: string[], rows: unknown[][]): string {
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

const storeName = (v: unknown): string => (v === 'postgres' ? 'PostgreSQL' : 'SQLite');

function section(
  results: BenchResult[],
  part: string,
  title: string,
  headers: string[],
  row: (r: BenchResult) => unknown[],
  sortKey?: (r: BenchResult) => number,
): string {
  const rs = results.filter((r) => r.part === part);
  // Stable sort: rows of one setting (SQLite, then PostgreSQL) end up next to each other.
  if (sortKey) rs.sort((a, b) => sortKey(a) - sortKey(b));
  if (rs.length === 0) return `### ${title}\n\nNot measured in the latest run.\n`;
  return `### ${title}\n\n${table(headers, rs.map(row))}\n`;
}

function runsTable(file: ResultsFile): string {
  const runs = Object.entries(file.runs ?? {});
  if (runs.length === 0) return '';
  const suite = file.suite
    ? `Latest full suite: ${file.suite.parts.join(', ')} in ${file.suite.seconds} s (started ${file.suite.at}).\n\n`
    : '';
  return `### Runs and machine load\n\n${suite}${table(
    ['Part', 'Started', 'Wall time (s)', 'Load before (1/5/15 min)', 'Load after (1/5/15 min)'],
    runs.map(([part, run]) => [
      part,
      run.startedAt,
      run.seconds,
      run.loadBefore.join(' / '),
      run.loadAfter.join(' / '),
    ]),
  )}\n`;
}

async function main(): Promise<void> {
  const file = JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as ResultsFile;
  const r = file.results;
  const m = file.machine;
  const out = [
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load average at the end ${m.loadAverage.join(' / ')}; updated ${file.updatedAt}.\n`,
    section(
      r,
      'local',
      '1. Local pipeline runs (shell executor, medians of wall time and of CPU time)',
      [
        'Pipeline',
        'Rounds',
        'flotilla run (s)',
        'gitlab-ci-local (s)',
        'Ratio',
        'CPU s, flotilla',
        'CPU s, gitlab-ci-local',
        'CPU ratio',
      ],
      (x) => [
        x.params['pipeline'],
        x.params['rounds'],
        x.figures['wall_s_median'],
        x.peer?.figures['wall_s_median'],
        x.ratio?.['wall_s_median'],
        x.figures['cpu_s_median'],
        x.peer?.figures['cpu_s_median'],
        x.ratio?.['cpu_s_median'],
      ],
    ),
    section(
      r,
      'local',
      "1b. Where flotilla run's time goes (medians, s, from its --verbose log timestamps)",
      [
        'Pipeline',
        'Process start',
        'Services up',
        'Project + git push + pipeline',
        'First pickup',
        'Jobs',
        'Finish + exit',
      ],
      (x) => [
        x.params['pipeline'],
        ...['start', 'services', 'push', 'pickup', 'jobs', 'finish'].map(
          (p) => x.figures[`phase_${p}_s_median`],
        ),
      ],
    ),
    section(
      r,
      'pickup',
      '2. Job pickup latency (started_at − pipeline created_at), SQLite and PostgreSQL',
      [
        'Polling runners',
        'Store',
        'Jobs',
        'p50 (ms)',
        'p95 (ms)',
        'p99 (ms)',
        'client-seen p50 (ms)',
        'POST /pipeline p50 (ms)',
        'p50 ratio PG ÷ SQLite',
      ],
      (x) => [
        x.params['pollingRunners'],
        storeName(x.params['store']),
        x.params['jobs'],
        x.figures['p50_ms'],
        x.figures['p95_ms'],
        x.figures['p99_ms'],
        x.figures['client_p50_ms'],
        x.figures['create_pipeline_p50_ms'],
        x.ratio?.['p50_ms'],
      ],
      (x) => Number(x.params['pollingRunners']),
    ),
    section(
      r,
      'throughput',
      '3. Coordinator throughput (no-op jobs), SQLite and PostgreSQL',
      [
        'Clients',
        'Store',
        'Jobs',
        'Jobs/s',
        'Jobs/s per half',
        'p99 PATCH/PUT (ms)',
        'p99 201 request (ms)',
        'Peak RSS (MiB)',
        'Errors',
        'Jobs/s ratio PG ÷ SQLite',
        'Ceiling jobs/s (server answering from memory)',
      ],
      (x) => [
        x.params['clients'],
        storeName(x.params['store']),
        x.params['jobs'],
        x.figures['jobs_per_s'],
        x.figures['jobs_per_s_halves'],
        x.figures['p99_patch_put_ms'],
        x.figures['p99_job_request_201_ms'],
        x.figures['coordinator_peak_rss_mib'],
        x.figures['errors'],
        x.ratio?.['jobs_per_s'],
        x.figures['ceiling_jobs_per_s'],
      ],
      (x) => Number(x.params['clients']),
    ),
    section(
      r,
      'logs',
      '4. Log throughput (shell executor)',
      [
        'Log (MB)',
        'Stored (MB)',
        'Job (s)',
        'MB/s',
        'Runner peak RSS (MiB)',
        'Coordinator peak RSS (MiB)',
        'Runner / coordinator idle RSS (MiB)',
      ],
      (x) => [
        x.figures['log_mb'],
        x.figures['stored_mb'],
        x.figures['job_seconds'],
        x.figures['mb_per_s'],
        x.figures['runner_peak_rss_mib'],
        x.figures['coordinator_peak_rss_mib'],
        `${cell(x.figures['runner_idle_rss_mib'])} / ${cell(x.figures['coordinator_idle_rss_mib'])}`,
      ],
    ),
    section(
      r,
      'docker',
      '5. Docker executor overhead (trivial job, p50)',
      [
        'Jobs',
        'Pickup → script (s)',
        'Job total (s)',
        'prepare_executor (s)',
        'get_sources (s)',
        'step_script (s)',
      ],
      (x) => [
        x.params['jobs'],
        x.figures['pickup_to_script_s_p50'],
        x.figures['job_total_s_p50'],
        x.figures['prepare_executor_s_p50'],
        x.figures['get_sources_s_p50'],
        x.figures['step_script_s_p50'],
      ],
    ),
    section(
      r,
      'autoscale',
      '6. Autoscaling, simulated days (Flotilla predictive pool vs docker+machine settings)',
      [
        'Day',
        'docker+machine IdleCount / IdleTime (s)',
        'Wait p50/p95 (s), baseline',
        'Wait p50/p95 (s), Flotilla',
        'Machine-min busy/idle/boot, baseline',
        'Machine-min busy/idle/boot, Flotilla',
        'Total ratio',
        'USD GCE / DO / EC2 / spot, baseline',
        'USD GCE / DO / EC2 / spot, Flotilla',
        'Created, baseline / Flotilla',
      ],
      (x) => {
        const usd = (f: Figures | undefined): string =>
          ['gce', 'digitalocean', 'ec2', 'ec2-spot'].map((p) => cell(f?.[`usd_${p}`])).join(' / ');
        const mm = (f: Figures | undefined): string =>
          `${cell(f?.['busy_machine_min'])} / ${cell(f?.['idle_machine_min'])} / ${cell(f?.['booting_machine_min'])}`;
        return [
          x.params['day'] ?? x.params['scenario'] ?? 'normal',
          `${cell(x.params['idleCount'] as number)} / ${cell(x.params['idleTimeSeconds'] as number)}${x.params['bestBaseline'] ? ' (best p95)' : ''}`,
          `${cell(x.peer?.figures['wait_p50_s'])} / ${cell(x.peer?.figures['wait_p95_s'])}`,
          `${cell(x.figures['wait_p50_s'])} / ${cell(x.figures['wait_p95_s'])}`,
          mm(x.peer?.figures),
          mm(x.figures),
          x.ratio?.['total_machine_min'],
          usd(x.peer?.figures),
          usd(x.figures),
          `${cell(x.peer?.figures['machines_created'])} / ${cell(Number(x.figures['machines_created'] ?? 0) + Number(x.figures['backup_machines_created'] ?? 0))}`,
        ];
      },
    ),
    section(
      r,
      'compile',
      '7. Pipeline creation in the engine (ms per compile, medians of rounds)',
      ['Configuration', 'Wall', 'Wall p90', 'CPU', 'CPU min'],
      (x) => [
        x.name,
        x.figures['ms_per_compile_median'],
        x.figures['ms_per_compile_p90'],
        x.figures['cpu_ms_per_compile_median'],
        x.figures['cpu_ms_per_compile_min'],
      ],
    ),
    runsTable(file),
  ];
  console.log(out.join('\n'));
}

void main();
