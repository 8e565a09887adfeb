/**
 * The executor port: how the runner manager runs one job's stages in some environment (processes on
 * this host for `shell`, containers for `docker`). The manager's job runner owns the stage order,
 * trace sections, timeouts, cancellation and status reporting; an executor only knows how to do
 * each stage in its environment. A new executor is a new folder with an `ExecutorFactory`; the poll
 * loop and job runner do not change.
 *
 * ## Lifecycle (per job)
 * 1. `factory.create(job)`: cheap and synchronous; no I/O.
 * 2. `prepare(ctx)`: the `prepare_executor` stage: create directories, pull images, start services.
 *    Throws on a system failure (reported as `runner_system_failure`).
 * 3. `runStage(stage, ctx)` for each stage in order, one at a time (never concurrently on one
 *    executor): `prepare_script`, `get_sources`, `restore_cache`, `download_artifacts`,
 *    `step_script`, `after_script`, `archive_cache*`, `upload_artifacts_on_*`,
 *    `cleanup_file_variables`. A stage the executor does not implement resolves `{ exitCode: 0 }`.
 * 4. `cleanup()`: releases everything the job used (processes, temp files, containers).
 *
 * ## Rules
 * - `cleanup()` is always called, also after a failed or aborted `prepare`, and may be called more
 *   than once; it is idempotent and never throws.
 * - Aborting `ctx.signal` means "stop this stage now": the executor kills everything the stage
 *   started (the whole process tree / container), waits until it is gone, then rejects with
 *   `ctx.signal.reason`. Graceful cancel is the job runner's business: it aborts `step_script` and
 *   then runs `after_script` with a fresh signal.
 * - A non-zero `exitCode` is the user's failure (script_failure); a thrown error is the system's.
 * - Everything written to `ctx.output` goes to the job log (already masked and size-limited by the
 *   caller); an executor never logs job output or secrets through the process logger.
 */
import type { AnnouncedJobs } from '../api/announced-jobs.js';
import type { JobPayload, JobVariable } from '../api/runner-api.js';
import type { CacheConfig } from './cache/cache-config.js';

/** Every stage, in the order a job runs them (GitLab Runner's); a job skips those it has no use for. */
export const BUILD_STAGES = [
  'prepare_executor',
  'prepare_script',
  'get_sources',
  'restore_cache',
  'download_artifacts',
  'step_script',
  'after_script',
  'archive_cache',
  'archive_cache_on_failure',
  'upload_artifacts_on_success',
  'upload_artifacts_on_failure',
  'cleanup_file_variables',
] as const;
export type BuildStage = (typeof BUILD_STAGES)[number];

/** The stages a job runs between get_sources and step_script, in GitLab Runner's order. */
export function stagesBeforeScript(payload: JobPayload): ('restore_cache' | 'download_artifacts')[] {
  const stages: ('restore_cache' | 'download_artifacts')[] = [];
  if (payload.cache.length > 0) stages.push('restore_cache');
  if (payload.dependencies.some((d) => d.artifacts_file?.filename)) stages.push('download_artifacts');
  return stages;
}

/** The status a job has reached, as `CI_JOB_STATUS` shows it to after_script. */
export type JobOutcome = 'success' | 'failed' | 'canceled';

/** Where a stage's output goes: the job log. */
export interface JobOutput {
  write(chunk: string | Uint8Array): void;
  /**
   * True when `write` is done with a chunk's memory once it returns (it stores or copies what it
   * keeps): an output reader may then pass views of one buffer it reuses for every read.
   */
  readonly syncWrite?: boolean;
}

/** Writes `chunk`, a view of memory the caller reuses: copied first unless `output` takes it at once. */
export function writeBorrowed(output: JobOutput, chunk: Buffer): void {
  output.write(output.syncWrite ? chunk : Buffer.from(chunk));
}

/** The runner entry a job came from, as the executor needs it (a snapshot, never reloaded). */
export interface ExecutorRunnerInfo {
  name: string;
  /** Coordinator base URL without a trailing slash, e.g. `http://host:8080`. */
  url: string;
  shortToken: string;
  buildsDir: string;
  cacheDir: string;
  shell: string;
  /** `[runners.cache]`: the distributed cache, signed into URLs per job by the manager. */
  cache?: CacheConfig | undefined;
}

export interface ExecutorJob {
  payload: JobPayload;
  /** All job variables, in precedence order (a later key wins): runner-added, payload, environment. */
  variables: readonly JobVariable[];
  runner: ExecutorRunnerInfo;
  /** This job's slot index within its runner entry (CI_CONCURRENT_ID), from 0. */
  concurrentId: number;
}

export interface StageContext {
  output: JobOutput;
  /** Aborted → kill the stage's processes now and reject with `signal.reason`. */
  signal: AbortSignal;
  /** The job's status so far, for `CI_JOB_STATUS` and `when:` decisions. */
  jobStatus: JobOutcome;
}

export interface StageResult {
  /** 0 on success; the failing command's exit code otherwise. */
  exitCode: number;
}

export interface Executor {
  /** The `prepare_executor` stage. Throws on a system failure. */
  prepare(ctx: StageContext): Promise<void>;
  /** Runs one stage (never `prepare_executor`). See the lifecycle above. */
  runStage(stage: Exclude<BuildStage, 'prepare_executor'>, ctx: StageContext): Promise<StageResult>;
  /** Releases everything; idempotent, never throws, safe after a failed `prepare`. */
  cleanup(): Promise<void>;
}

/**
 * Where a runner entry's job requests deliver a Flotilla coordinator's announced jobs (see
 * src/api/announced-jobs.ts); an entry whose factory has one asks for them.
 */
export interface AnnouncementSink {
  /** The last job request's announcement (undefined: the answer carried none, e.g. GitLab's). */
  jobs(a: AnnouncedJobs | undefined): void;
  /** The job just handed out was created before it became pending. */
  jobAnnounced(jobId: number): void;
}

export interface ExecutorFactory {
  /** The config.toml `executor` value this factory serves, e.g. "shell". */
  readonly name: string;
  /** Present when the executor uses announced jobs (docker-autoscaler with `announced_jobs`). */
  readonly announcements?: AnnouncementSink;
  /** The shell scripts run in, reported in the runner info (`info.shell`). */
  readonly shell: string;
  /** The Runner API `info.features` this executor supports (true values). */
  readonly features: Readonly<Record<string, boolean>>;
  create(job: ExecutorJob): Executor;
}

/** Looks up a variable's value; the last definition wins. */
export function variableValue(variables: readonly JobVariable[], key: string): string | undefined {
  for (let i = variables.length - 1; i >= 0; i--) {
    const v = variables[i];
    if (v?.key === key) return v.value;
  }
  return undefined;
}
