/**
 * Runs one job from a 201 payload to its final status: two-phase commit (`PUT running`), trace
 * header, the stages through the executor, then the final PUT with the trace checksum. The job
 * works on a snapshot of its runner entry; config reloads never reach it.
 */
import type { JobPayload, JobVariable } from '../../api/runner-api.js';
import type { RunnerConfig } from '../config/schema.js';
import type { Executor, ExecutorFactory } from '../../executors/executor.js';
import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { CoordinatorClient } from '../coordinator-client.js';
import { createJobTrace, type JobTrace } from '../trace/job-trace.js';
import { DEFAULT_TOKEN_PREFIXES } from '../trace/masker.js';
import { createTraceSender } from '../trace/trace-sender.js';
import { shortToken } from '../version.js';
import { changedFlags, featureFlagOn, type FeatureFlagSource } from './feature-flags.js';
import { createJobControl } from './job-control.js';
import { ANSI } from './sections.js';
import { runStages, type JobObserver, type StagesOutcome } from './stage-runner.js';
import { buildJobVariables, secretValues } from './variables.js';

export interface RunJobOptions {
  payload: JobPayload;
  runner: RunnerConfig;
  buildsDir: string;
  cacheDir: string;
  client: CoordinatorClient;
  executorFactory: ExecutorFactory;
  clock: Clock;
  logger: Logger;
  systemId: string;
  version: string;
  concurrentId: number;
  /** Aborted → the manager is shutting down forcefully: stop now, report runner_system_failure. */
  shutdownSignal: AbortSignal;
  observer?: JobObserver;
  /** Maximum wait between final-update retries. */
  maxBackoffMs?: number;
}

/** Tries of the two-phase commit: waits of 1, 2, 4 and 8 s cover a coordinator restart of ~15 s. */
export const CONFIRM_ATTEMPTS = 5;

export type JobResultState = 'success' | 'failed' | 'dropped';

export interface JobResult {
  state: JobResultState;
  failureReason?: string;
  exitCode?: number;
}

function finalLine(outcome: StagesOutcome): string {
  if (outcome.state === 'success') return `${ANSI.boldGreen}Job succeeded${ANSI.reset}\n`;
  return `${ANSI.boldRed}ERROR: Job failed${outcome.message}${ANSI.reset}\n`;
}

/**
 * The two-phase commit: PUT state=running, retried on network errors, 429 and 5xx with a doubling
 * wait (or the answer's Retry-After, when longer, up to 60 s).
 */
async function confirmJob(options: RunJobOptions): Promise<number> {
  const { client, payload, clock } = options;
  let status = 0;
  for (let attempt = 1; attempt <= CONFIRM_ATTEMPTS; attempt++) {
    const state = await client.updateJob(payload.id, payload.token, { state: 'running' });
    status = state.status;
    if (status !== 0 && status !== 429 && status < 500) return status;
    const backoff = Math.min(1000 * 2 ** (attempt - 1), options.maxBackoffMs ?? Infinity);
    if (attempt < CONFIRM_ATTEMPTS)
      await clock.sleep(Math.max(backoff, Math.min(state.retryAfterMs ?? 0, 60_000)));
  }
  return status;
}

/** The job's trace: masked, limited, and with timestamps unless FF_TIMESTAMPS is off. */
function createTrace(
  options: RunJobOptions,
  variables: readonly JobVariable[],
  logger: Logger,
): { trace: JobTrace; changedFlags: string } {
  const { payload, runner } = options;
  const flags: FeatureFlagSource = { configured: runner.feature_flags, variables };
  const timestamps = featureFlagOn('FF_TIMESTAMPS', {
    ...flags,
    onInvalid: (flag, value) =>
      logger.warn({ flag, value }, 'feature flag is not true or false; default used'),
  });
  const trace = createJobTrace({
    secrets: secretValues(payload, variables),
    tokenPrefixes: [...DEFAULT_TOKEN_PREFIXES, ...(payload.features.token_mask_prefixes ?? [])],
    limitBytes: runner.output_limit * 1024,
    timestamps: timestamps ? { clock: options.clock } : undefined,
  });
  return { trace, changedFlags: changedFlags(flags) };
}

export async function runJob(options: RunJobOptions): Promise<JobResult> {
  const { payload, runner, client, clock } = options;
  const logger = options.logger.child({ jobId: payload.id, runner: shortToken(runner.token) });
  const committed = await confirmJob(options);
  if (committed !== 200) {
    logger.warn({ status: committed }, 'job not confirmed by the coordinator; dropped');
    return { state: 'dropped' };
  }
  const short = shortToken(runner.token);
  const variables = buildJobVariables(payload, {
    shortToken: short,
    version: options.version,
    concurrentId: options.concurrentId,
    environment: runner.environment,
  });
  const { trace, changedFlags: changed } = createTrace(options, variables, logger);
  const control = createJobControl();
  const sender = createTraceSender({
    client,
    jobId: payload.id,
    jobToken: payload.token,
    trace,
    clock,
    logger,
    onRemoteVerdict: (verdict) => control.raise(verdict === 'cancel' ? 'cancel' : 'abort'),
    ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
  });
  const onShutdown = (): void => control.raise('shutdown');
  options.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
  if (options.shutdownSignal.aborted) onShutdown();
  trace.write(
    `Running with flotilla ${options.version}\n  on ${runner.name} ${short}, system ID: ${options.systemId}\n` +
      (changed ? `  feature flags: ${changed}\n` : ''),
  );
  sender.start();
  logger.info('job started');
  let executor: Executor | undefined;
  let outcome: StagesOutcome;
  try {
    executor = options.executorFactory.create({
      payload,
      variables,
      runner: {
        name: runner.name,
        url: client.baseUrl,
        shortToken: short,
        buildsDir: options.buildsDir,
        cacheDir: options.cacheDir,
        shell: runner.shell,
        cache: runner.cache,
      },
      concurrentId: options.concurrentId,
    });
    outcome = await runStages({
      payload,
      variables,
      executor,
      executorName: options.executorFactory.name,
      control,
      trace,
      clock,
      logger,
      ...(options.observer ? { observer: options.observer } : {}),
    });
  } catch (err) {
    outcome = {
      state: 'failed',
      failureReason: 'runner_system_failure',
      message: ` (system failure): ${errorMessage(err)}`,
    };
  } finally {
    await executor?.cleanup().catch(() => undefined);
    options.shutdownSignal.removeEventListener('abort', onShutdown);
  }
  return finish(outcome, { trace, sender, control, logger, payload });
}

async function finish(
  outcome: StagesOutcome,
  ctx: {
    trace: ReturnType<typeof createJobTrace>;
    sender: ReturnType<typeof createTraceSender>;
    control: ReturnType<typeof createJobControl>;
    logger: Logger;
    payload: JobPayload;
  },
): Promise<JobResult> {
  const { trace, sender, control, logger } = ctx;
  if (control.interrupt === 'abort') {
    trace.finish();
    sender.stop();
    // a PATCH may still be in flight: free the trace once the sender has let go of it
    void sender
      .flush()
      .catch(() => false)
      .finally(() => trace.dispose());
    logger.warn('job aborted by the coordinator; not reporting a final state');
    return { state: 'dropped' };
  }
  trace.write(`\n${finalLine(outcome)}`);
  trace.finish();
  const result: JobResult =
    outcome.state === 'success'
      ? { state: 'success' }
      : {
          state: 'failed',
          ...(outcome.failureReason ? { failureReason: outcome.failureReason } : {}),
          ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}),
        };
  const status = await sender
    .finish({
      state: result.state === 'success' ? 'success' : 'failed',
      ...(result.failureReason ? { failure_reason: result.failureReason } : {}),
      ...(result.exitCode !== undefined ? { exit_code: result.exitCode } : {}),
    })
    .finally(() => trace.dispose());
  logger.info({ state: result.state, failureReason: result.failureReason, status }, 'job finished');
  return result;
}
