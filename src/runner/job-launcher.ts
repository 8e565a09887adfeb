/** Starts one job for a runner entry: running-job record, metrics, and the job run itself. */
import { resolve } from 'node:path';

import type { JobPayload } from '../api/runner-api.js';
import type { RunnerConfig } from './config/schema.js';
import type { ExecutorFactory } from '../executors/executor.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { JobJournal } from './job-journal.js';
import { runJob } from './job/run-job.js';
import type { RunnerMetrics } from './metrics.js';
import type { PollTarget } from './poller.js';
import { projectUrlOf, type RunningJob } from './running-jobs.js';

/** A `[[runners]]` entry as the manager tracks it; `entry` is replaced on config reload. */
export interface EntryState extends PollTarget {
  key: string;
  entry: RunnerConfig;
  short: string;
  factory: ExecutorFactory;
  controller: AbortController;
  workers: number;
}

export interface LaunchJobOptions {
  state: EntryState;
  payload: JobPayload;
  concurrentId: number;
  clock: Clock;
  logger: Logger;
  systemId: string;
  version: string;
  metrics: RunnerMetrics;
  running: Map<number, RunningJob>;
  baseDir: string;
  shutdownSignal: AbortSignal;
  /** Records the job while it runs, so a restarted manager can report it if this one dies. */
  journal?: JobJournal | undefined;
}

async function journalRecord(options: LaunchJobOptions): Promise<void> {
  const { payload, journal } = options;
  if (!journal) return;
  try {
    await journal.record({
      id: payload.id,
      token: payload.token,
      url: options.state.entry.url,
      systemId: options.systemId,
      startedAt: options.clock.now().toISOString(),
    });
  } catch (err) {
    options.logger.warn(
      { jobId: payload.id, err: errorMessage(err) },
      'could not record the job in the job journal',
    );
  }
}

/** Resolves when the job has finished and reported (never rejects). */
export async function launchJob(options: LaunchJobOptions): Promise<void> {
  const { state, payload, clock, logger, metrics } = options;
  const snapshot = state.entry;
  const labels = { runner: state.short, runner_name: snapshot.name, system_id: options.systemId };
  const record: RunningJob = {
    id: payload.id,
    shortToken: state.short,
    runnerName: snapshot.name,
    projectUrl: projectUrlOf(payload, state.client.baseUrl),
    startedAtMs: clock.monotonic(),
    stage: '',
    executorStage: '',
  };
  options.running.set(payload.id, record);
  await journalRecord(options);
  metrics.jobsTotal.inc(labels);
  metrics.queueDuration.observe(labels, payload.job_info.time_in_queue_seconds ?? 0);
  try {
    const result = await runJob({
      payload,
      runner: snapshot,
      client: state.client,
      executorFactory: state.factory,
      clock,
      logger,
      systemId: options.systemId,
      version: options.version,
      concurrentId: options.concurrentId,
      buildsDir: resolve(options.baseDir, snapshot.builds_dir ?? 'builds'),
      cacheDir: resolve(options.baseDir, snapshot.cache_dir ?? 'cache'),
      shutdownSignal: options.shutdownSignal,
      observer: {
        stageStarted: (stage) => {
          record.stage = stage;
          record.executorStage = 'executor_run';
        },
        stageFinished: (stage, seconds) => metrics.stageDuration.observe({ ...labels, stage }, seconds),
      },
    });
    if (result.state === 'failed') {
      const failure_reason = result.failureReason ?? 'unknown_failure';
      metrics.failedJobs.inc({ runner: state.short, runner_name: snapshot.name, failure_reason });
      metrics.workerProcessingFailures.inc({ ...labels, failure_type: 'job_failure' });
    }
  } catch (err) {
    logger.error({ jobId: payload.id, err: errorMessage(err) }, 'job crashed');
    metrics.workerProcessingFailures.inc({ ...labels, failure_type: 'other' });
  } finally {
    await options.journal?.remove(payload.id).catch(() => undefined);
    options.running.delete(payload.id);
    metrics.jobDuration.observe(labels, (clock.monotonic() - record.startedAtMs) / 1000);
  }
}
