/**
 * Follows one pipeline through the REST API until it completes: prints each job's log lines as
 * they arrive (prefixed with the job name when several jobs run at once) and then a summary.
 * Child pipelines created by trigger jobs are followed too, their jobs prefixed `bridge/job`.
 */
import type { BridgeResponse, JobResponse, PipelineResponse } from '../../api/rest-api.js';
import type { Clock } from '../../shared/clock.js';
import type { RestClient } from '../rest-client.js';
import type { ChangeNotice } from './change-notice.js';
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
  /** Ends the wait between two polls early (the embedded runner ended a job). */
  changes?: ChangeNotice;
}

/** One pipeline as last seen, with the child pipelines of its bridges. */
export interface WatchedPipeline {
  pipeline: PipelineResponse;
  jobs: JobResponse[];
  bridges: BridgeResponse[];
  children: { bridge: BridgeResponse; watched: WatchedPipeline }[];
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

  #prefix(label: string, t: Tracked): string {
    const name = label.padEnd(12).slice(0, Math.max(12, label.length));
    return this.#opts.color ? `${t.color}${name}${RESET} | ` : `${name} | `;
  }

  async #followJob(job: JobResponse, path: string): Promise<void> {
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
    for (const line of lines) this.#opts.write(this.#prefix(path + job.name, t) + line);
    if (done) t.finished = true;
  }

  /** Bridges of a pipeline; none from a server without the endpoint. */
  async #bridges(pipelineId: number): Promise<BridgeResponse[]> {
    return this.#opts.client.bridges(this.#opts.projectId, pipelineId).catch(() => []);
  }

  /** One poll of a pipeline and, recursively, of its children; `done` when all are complete. */
  async #poll(pipelineId: number, path: string): Promise<{ watched: WatchedPipeline; done: boolean }> {
    const { client, projectId } = this.#opts;
    const pipeline = await client.pipeline(projectId, pipelineId);
    const jobs = await client.jobs(projectId, pipelineId);
    jobs.sort((a, b) => a.id - b.id);
    for (const job of jobs) await this.#followJob(job, path);
    const bridges = await this.#bridges(pipelineId);
    let done =
      DONE.has(pipeline.status) && jobs.every((j) => j.status !== 'running' && j.status !== 'pending');
    const children: WatchedPipeline['children'] = [];
    for (const bridge of bridges) {
      if (!bridge.downstream_pipeline) continue;
      const child = await this.#poll(bridge.downstream_pipeline.id, `${path}${bridge.name}/`);
      children.push({ bridge, watched: child.watched });
      done &&= child.done;
    }
    return { watched: { pipeline, jobs, bridges, children }, done };
  }

  /**
   * Polls until the pipeline and its child pipelines are complete (or blocked on a manual job);
   * returns them with their jobs.
   */
  async run(): Promise<WatchedPipeline> {
    const { pipelineId, clock } = this.#opts;
    for (;;) {
      const { done } = await this.#poll(pipelineId, '');
      // One more pass prints what arrived with the final statuses.
      if (done) return (await this.#poll(pipelineId, '')).watched;
      const ms = this.#opts.pollMs ?? 300;
      if (this.#opts.changes) await this.#opts.changes.wait(clock, ms, this.#opts.signal);
      else await clock.sleep(ms, this.#opts.signal);
    }
  }
}

function seconds(job: JobResponse): string {
  return job.duration === null ? '-' : `${job.duration.toFixed(1)}s`;
}

/**
 * The summary table printed at the end of `flotilla run`; trigger jobs show the child pipeline
 * they created, whose own table follows.
 */
export function summaryLines(watched: WatchedPipeline, title = 'Pipeline'): string[] {
  const { pipeline, jobs, bridges } = watched;
  const width = Math.max(4, ...jobs.map((j) => j.name.length), ...bridges.map((b) => b.name.length));
  const out = [
    '',
    `${title} #${pipeline.id} ${pipeline.status}${pipeline.yaml_errors ? `: ${pipeline.yaml_errors}` : ''}`,
  ];
  for (const job of jobs) {
    const reason = job.failure_reason ? ` (${job.failure_reason})` : '';
    const allowed = job.status === 'failed' && job.allow_failure ? ' [allowed to fail]' : '';
    const coverage = job.coverage !== null ? ` coverage ${job.coverage}%` : '';
    out.push(
      `  ${job.stage.padEnd(10)} ${job.name.padEnd(width)}  ${job.status.padEnd(8)} ${seconds(job).padStart(7)}${reason}${allowed}${coverage}`,
    );
  }
  for (const bridge of bridges) {
    const reason = bridge.failure_reason ? ` (${bridge.failure_reason})` : '';
    const child = bridge.downstream_pipeline ? ` -> child pipeline #${bridge.downstream_pipeline.id}` : '';
    out.push(
      `  ${bridge.stage.padEnd(10)} ${bridge.name.padEnd(width)}  ${bridge.status.padEnd(8)}${child}${reason}`,
    );
  }
  for (const { bridge, watched: child } of watched.children)
    out.push(...summaryLines(child, `Child pipeline (${bridge.name})`));
  return out;
}
