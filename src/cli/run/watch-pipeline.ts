/**
 * Follows one pipeline through the REST API until it completes: prints each job's log lines as
 * they arrive (prefixed with the job name when several jobs run at once) and then a summary.
 */
import type { JobResponse, PipelineResponse } from '../../api/rest-api.js';
import type { Clock } from '../../shared/clock.js';
import type { RestClient } from '../rest-client.js';
import { JobLogCursor } from './log-stream.js';

const DONE = new Set(['success', 'failed', 'canceled', 'skipped', 'manual']);
const JOB_DONE = new Set(['success', 'failed', 'canceled', 'skipped', 'manual', 'created']);
const COLORS = ['\x1b[34m', '\x1b[35m', '\x1b[36m', '\x1b[33m', '\x1b[32m'];
const RESET = '\x1b[0m';

export interface WatchOptions {
  client: RestClient;
  projectId: number;
  pipelineId: number;
  clock: Clock;
  write: (line: string) => void;
  color: boolean;
  pollMs?: number;
  signal?: AbortSignal;
}

interface Tracked {
  cursor: JobLogCursor;
  finished: boolean;
  color: string;
}

export class PipelineWatcher {
  readonly #opts: WatchOptions;
  readonly #tracked = new Map<number, Tracked>();

  constructor(opts: WatchOptions) {
    this.#opts = opts;
  }

  #prefix(job: JobResponse, t: Tracked): string {
    const name = job.name.padEnd(12).slice(0, Math.max(12, job.name.length));
    return this.#opts.color ? `${t.color}${name}${RESET} | ` : `${name} | `;
  }

  async #followJob(job: JobResponse): Promise<void> {
    let t = this.#tracked.get(job.id);
    if (!t) {
      if (
        job.status === 'pending' ||
        job.status === 'created' ||
        job.status === 'manual' ||
        job.status === 'skipped'
      )
        return;
      t = {
        cursor: new JobLogCursor(),
        finished: false,
        color: COLORS[this.#tracked.size % COLORS.length] ?? '',
      };
      this.#tracked.set(job.id, t);
    }
    if (t.finished) return;
    const lines = t.cursor.advance(await this.#opts.client.trace(this.#opts.projectId, job.id));
    const done = JOB_DONE.has(job.status) && job.status !== 'created';
    if (done) lines.push(...t.cursor.flush());
    for (const line of lines) this.#opts.write(this.#prefix(job, t) + line);
    if (done) t.finished = true;
  }

  /** Polls until the pipeline is complete (or blocked on a manual job); returns it and its jobs. */
  async run(): Promise<{ pipeline: PipelineResponse; jobs: JobResponse[] }> {
    const { client, projectId, pipelineId, clock } = this.#opts;
    for (;;) {
      const pipeline = await client.pipeline(projectId, pipelineId);
      const jobs = await client.jobs(projectId, pipelineId);
      jobs.sort((a, b) => a.id - b.id);
      for (const job of jobs) await this.#followJob(job);
      if (DONE.has(pipeline.status) && jobs.every((j) => j.status !== 'running' && j.status !== 'pending')) {
        for (const job of jobs) await this.#followJob(job);
        return { pipeline, jobs };
      }
      await clock.sleep(this.#opts.pollMs ?? 300, this.#opts.signal);
    }
  }
}

function seconds(job: JobResponse): string {
  return job.duration === null ? '-' : `${job.duration.toFixed(1)}s`;
}

/** The summary table printed at the end of `flotilla run`. */
export function summaryLines(pipeline: PipelineResponse, jobs: JobResponse[]): string[] {
  const width = Math.max(4, ...jobs.map((j) => j.name.length));
  const out = [
    '',
    `Pipeline #${pipeline.id} ${pipeline.status}${pipeline.yaml_errors ? `: ${pipeline.yaml_errors}` : ''}`,
  ];
  for (const job of jobs) {
    const reason = job.failure_reason ? ` (${job.failure_reason})` : '';
    const allowed = job.status === 'failed' && job.allow_failure ? ' [allowed to fail]' : '';
    const coverage = job.coverage !== null ? ` coverage ${job.coverage}%` : '';
    out.push(
      `  ${job.stage.padEnd(10)} ${job.name.padEnd(width)}  ${job.status.padEnd(8)} ${seconds(job).padStart(7)}${reason}${allowed}${coverage}`,
    );
  }
  return out;
}
