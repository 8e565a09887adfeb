/**
 * The stage sequence of one job, like gitlab-runner's build: prepare_executor, prepare_script,
 * get_sources, restore_cache, download_artifacts, step_script (main stages: the first failure or an
 * interrupt ends them), then after_script (always, except after a hard abort; its own timeout),
 * archive_cache*, upload_artifacts_on_*, cleanup_file_variables. Each stage is a trace section.
 */
import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import { artifactsFor } from '../../executors/artifacts/stages.js';
import {
  stagesBeforeScript,
  variableValue,
  type BuildStage,
  type Executor,
  type JobOutcome,
  type StageContext,
} from '../../executors/executor.js';
import type { Clock } from '../../shared/clock.js';
import { formatDuration, parseDuration } from '../../shared/duration.js';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { JobTrace } from '../trace/job-trace.js';
import {
  InvalidAttemptsError,
  isRetriableSystemFailure,
  isRetriedStage,
  jobAttempts,
  type JobAttempts,
} from './attempts.js';
import { mapFailureReason } from './failure.js';
import { JobInterrupt, type InterruptKind, type JobControl, type StageKind } from './job-control.js';
import { ANSI, closeStage, openStage, stageTitle } from './sections.js';

export const DEFAULT_AFTER_SCRIPT_TIMEOUT_S = 300;

export interface JobObserver {
  stageStarted?(stage: BuildStage): void;
  stageFinished?(stage: BuildStage, seconds: number): void;
}

export interface StagesOutcome {
  state: 'success' | 'failed';
  failureReason?: string;
  exitCode?: number;
  /** Appended to "ERROR: Job failed". */
  message: string;
  /** The stage that failed, when one did. */
  stage?: BuildStage;
}

export interface RunStagesOptions {
  payload: JobPayload;
  variables: readonly JobVariable[];
  executor: Executor;
  executorName: string;
  control: JobControl;
  trace: JobTrace;
  clock: Clock;
  logger: Logger;
  observer?: JobObserver;
}

type StageRun = (ctx: StageContext) => Promise<number>;
type StageResult = number | Error | 'skipped';

function afterScriptTimeoutMs(variables: readonly JobVariable[]): number {
  const value = variableValue(variables, 'RUNNER_AFTER_SCRIPT_TIMEOUT');
  try {
    return (value ? parseDuration(value) : DEFAULT_AFTER_SCRIPT_TIMEOUT_S) * 1000;
  } catch {
    return DEFAULT_AFTER_SCRIPT_TIMEOUT_S * 1000;
  }
}

/** The job's attempt variables, or the outcome that fails it before anything runs. */
function readAttempts(options: RunStagesOptions): JobAttempts | StagesOutcome {
  try {
    return jobAttempts(options.variables);
  } catch (err) {
    if (!(err instanceof InvalidAttemptsError)) throw err;
    return { state: 'failed', failureReason: 'script_failure', message: `: ${err.message}` };
  }
}

/**
 * `EXECUTOR_JOB_SECTION_ATTEMPTS`: runs one stage again (in the same trace section) while the
 * executor throws a system failure, up to the limit; a script's exit code is returned as it is.
 */
function withSectionAttempts(
  name: BuildStage,
  run: StageRun,
  attempts: number,
  options: RunStagesOptions,
): StageRun {
  if (name === 'prepare_executor' || attempts <= 1) return run;
  return async (ctx) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(ctx);
      } catch (err) {
        if (attempt >= attempts || !(err instanceof Error) || !isRetriableSystemFailure(err, ctx.signal))
          throw err;
        options.logger.warn({ stage: name, attempt, err: err.message }, 'stage system failure; retrying');
        options.trace.write(
          `${ANSI.yellow}WARNING: ${stageTitle(name, options.executorName)} failed (system failure, ` +
            `attempt ${attempt} of ${attempts}): ${err.message}${ANSI.reset}\n` +
            `Retrying ${name} (attempt ${attempt + 1} of ${attempts})...\n`,
        );
      }
    }
  };
}

/** A retried stage's failure, in the log line between its attempts. */
function describeFailure(result: StageResult): string {
  return result instanceof Error ? `system failure: ${result.message}` : `exit code ${String(result)}`;
}

function succeeded(result: StageResult): boolean {
  return result === 'skipped' || result === 0 || result instanceof JobInterrupt;
}

export async function runStages(options: RunStagesOptions): Promise<StagesOutcome> {
  const { payload, executor, control, trace, clock, observer } = options;
  const sections = payload.features.trace_sections;
  const timeoutS = payload.runner_info.timeout > 0 ? payload.runner_info.timeout : 7200;
  const read = readAttempts(options);
  if ('state' in read) return read;
  const attempts: JobAttempts = read;

  async function stage(
    name: BuildStage,
    kind: StageKind,
    jobStatus: JobOutcome,
    run: StageRun,
  ): Promise<StageResult> {
    if (control.hard || (kind === 'main' && control.interrupt)) return 'skipped';
    const signal = control.beginStage(kind);
    const started = clock.monotonic();
    openStage(trace, name, options.executorName, Math.floor(clock.now().getTime() / 1000), sections);
    observer?.stageStarted?.(name);
    try {
      return await withSectionAttempts(
        name,
        run,
        attempts.section,
        options,
      )({ output: trace, signal, jobStatus });
    } catch (err) {
      return err instanceof Error ? err : new Error(errorMessage(err));
    } finally {
      closeStage(trace, name, Math.floor(clock.now().getTime() / 1000), sections);
      observer?.stageFinished?.(name, (clock.monotonic() - started) / 1000);
    }
  }

  const runner =
    (name: Exclude<BuildStage, 'prepare_executor'>): StageRun =>
    async (ctx) =>
      (await executor.runStage(name, ctx)).exitCode;
  const mainStages: [BuildStage, StageRun][] = [
    ['prepare_executor', async (ctx) => (await executor.prepare(ctx), 0)],
    ['prepare_script', runner('prepare_script')],
    ['get_sources', runner('get_sources')],
  ];
  for (const stage of stagesBeforeScript(payload)) mainStages.push([stage, runner(stage)]);
  mainStages.push(['step_script', runner('step_script')]);

  const timer = new AbortController();
  clock.sleep(timeoutS * 1000, timer.signal).then(
    () => control.raise('timeout'),
    () => undefined,
  );
  let failure: StagesOutcome | null = null;
  try {
    for (const [name, run] of mainStages) {
      const limit = isRetriedStage(name) ? attempts.stage[name] : 1;
      let result = await stage(name, 'main', 'success', run);
      for (let attempt = 1; attempt < limit && !succeeded(result) && !control.interrupt; attempt++) {
        trace.write(
          `${ANSI.yellow}WARNING: ${stageTitle(name, options.executorName)} failed (attempt ${attempt} of ` +
            `${limit}): ${describeFailure(result)}${ANSI.reset}\nRetrying ${name} (attempt ${attempt + 1} of ${limit})...\n`,
        );
        result = await stage(name, 'main', 'success', run);
      }
      failure = cacheNotRestored(name, result, options) ? null : failureOf(name, result, options);
      if (failure || control.interrupt) break;
    }
  } finally {
    timer.abort();
  }
  if (failure?.stage === 'prepare_executor') return failure;
  const mainInterrupt = control.interrupt;
  const outcome = failure ?? interruptOutcome(mainInterrupt, payload, timeoutS);
  const jobStatus: JobOutcome =
    !failure && mainInterrupt === 'cancel' ? 'canceled' : outcome ? 'failed' : 'success';
  await afterScript(stage, options, jobStatus);
  const post = await postStages(stage, options, outcome ? 'failed' : 'success');
  if (control.hard)
    return interruptOutcome(control.interrupt, payload, timeoutS) ?? { state: 'failed', message: '' };
  return outcome ?? post ?? { state: 'success', message: '' };
}

/**
 * A `restore_cache` whose last attempt exited non-zero (a download that failed): as gitlab-runner,
 * a cache that could not be restored is a warning and the job goes on without it.
 */
function cacheNotRestored(name: BuildStage, result: StageResult, options: RunStagesOptions): boolean {
  if (name !== 'restore_cache' || typeof result !== 'number' || result === 0) return false;
  options.trace.write(
    `${ANSI.yellow}WARNING: ${stageTitle(name, options.executorName)} failed: exit code ${result}; ` +
      `the job goes on without the cache${ANSI.reset}\n`,
  );
  return true;
}

function failureOf(name: BuildStage, result: StageResult, options: RunStagesOptions): StagesOutcome | null {
  if (result === 'skipped' || result === 0 || result instanceof JobInterrupt) return null;
  if (result instanceof Error) {
    options.logger.warn({ stage: name, err: result.message }, 'stage failed with a system error');
    // Executors tag errors that are not system failures (image_pull_failure,
    // runner_configuration_error); the job's features say which reasons the coordinator knows.
    const tagged = (result as { failureReason?: unknown }).failureReason;
    return {
      state: 'failed',
      failureReason:
        typeof tagged === 'string'
          ? mapFailureReason(tagged, options.payload.features.failure_reasons)
          : 'runner_system_failure',
      message: ` (system failure): ${result.message}`,
      stage: name,
    };
  }
  return {
    state: 'failed',
    failureReason: 'script_failure',
    exitCode: result,
    message: `: exit code ${result}`,
    stage: name,
  };
}

function interruptOutcome(
  interrupt: InterruptKind | null,
  payload: JobPayload,
  timeoutS: number,
): StagesOutcome | null {
  const supported = payload.features.failure_reasons;
  switch (interrupt) {
    case 'timeout':
      return {
        state: 'failed',
        failureReason: 'job_execution_timeout',
        message: `: execution took longer than ${formatDuration(timeoutS)} seconds`,
      };
    case 'cancel':
      return {
        state: 'failed',
        failureReason: mapFailureReason('job_canceled', supported),
        message: ': canceled',
      };
    case 'shutdown':
      return {
        state: 'failed',
        failureReason: 'runner_system_failure',
        message: ' (system failure): aborted: the runner is shutting down',
      };
    case 'abort':
      return { state: 'failed', failureReason: 'unknown_failure', message: ': aborted by the coordinator' };
    default:
      return null;
  }
}

type StageFn = (
  name: BuildStage,
  kind: StageKind,
  jobStatus: JobOutcome,
  run: StageRun,
) => Promise<StageResult>;

async function afterScript(stage: StageFn, options: RunStagesOptions, jobStatus: JobOutcome): Promise<void> {
  const { payload, executor, control, clock, trace } = options;
  if (!payload.steps.some((s) => s.name === 'after_script' && s.script.length > 0)) return;
  const timer = new AbortController();
  const result = await stage('after_script', 'after', jobStatus, (ctx) => {
    clock.sleep(afterScriptTimeoutMs(options.variables), timer.signal).then(
      () => control.abortStage(new Error('after_script timed out')),
      () => undefined,
    );
    return executor.runStage('after_script', ctx).then((r) => r.exitCode);
  });
  timer.abort();
  if (result instanceof Error && !(result instanceof JobInterrupt))
    trace.write(`${ANSI.yellow}WARNING: ${result.message}${ANSI.reset}\n`);
  else if (typeof result === 'number' && result !== 0)
    trace.write(
      `${ANSI.yellow}WARNING: after_script failed with exit code ${result}; ignored${ANSI.reset}\n`,
    );
}

async function postStages(
  stage: StageFn,
  options: RunStagesOptions,
  outcome: 'success' | 'failed',
): Promise<StagesOutcome | null> {
  const { payload, executor } = options;
  const run =
    (name: Exclude<BuildStage, 'prepare_executor'>): StageRun =>
    async (ctx) =>
      (await executor.runStage(name, ctx)).exitCode;
  let failure: StagesOutcome | null = null;
  if (payload.cache.length > 0) {
    const name = outcome === 'success' ? 'archive_cache' : 'archive_cache_on_failure';
    await stage(name, 'final', outcome, run(name));
  }
  if (artifactsFor(payload, outcome).length > 0) {
    const name = outcome === 'success' ? 'upload_artifacts_on_success' : 'upload_artifacts_on_failure';
    failure = failureOf(name, await stage(name, 'final', outcome, run(name)), options);
  }
  await stage('cleanup_file_variables', 'final', outcome, run('cleanup_file_variables'));
  return failure;
}
