/**
 * The start of `flotilla up`, for the command and for tests: the coordinator, the local runner's
 * config.toml (made on first start) and the runner manager, in one process and with one logger.
 * That logger reports `error`/`fatal` lines to `sentry_dsn` of the runner's config.toml, for the
 * coordinator's errors too, and follows the DSN on live reloads.
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { loadConfigFile } from '../runner/config/load.js';
import { addRunnerToConfigFile } from '../runner/config/write.js';
import { createErrorReporter, type ErrorReporter } from '../observability/error-reporter.js';
import { reportingLogger } from '../observability/reporting-logger.js';
import type { RunnerManager } from '../runner/manager.js';
import { FLOTILLA_VERSION } from '../runner/version.js';
import { systemClock } from '../shared/clock.js';
import { FlotillaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { say } from './output.js';
import { RestClient } from './rest-client.js';
import { createConfiguredManager, type RunnerExecutors } from './executors.js';
import { startCoordinator, type RunningCoordinator } from './start-coordinator.js';

export interface UpOptions {
  listen: string;
  dataDir: string;
  database?: string;
  executor: string;
  concurrent: string;
}

export interface RunningUp {
  coordinator: RunningCoordinator;
  manager: RunnerManager;
  executors: RunnerExecutors;
  reporter: ErrorReporter;
  /** The logger both parts use (reporting to sentry_dsn). */
  logger: Logger;
  configPath: string;
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

/** Creates the local runner on first start and writes its config.toml; later starts reuse it. */
async function ensureRunnerConfig(
  configPath: string,
  coordinator: RunningCoordinator,
  options: UpOptions,
): Promise<void> {
  if (await exists(configPath)) return;
  const concurrent = Number(options.concurrent);
  if (!Number.isInteger(concurrent) || concurrent < 1) {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `--concurrent must be a positive integer, got "${options.concurrent}"`,
    );
  }
  const client = new RestClient(coordinator.url, coordinator.rootToken);
  const runner = await client.createRunner('flotilla up (local)');
  await addRunnerToConfigFile(configPath, {
    name: 'local',
    url: coordinator.url,
    id: runner.id,
    token: runner.token,
    token_obtained_at: new Date(),
    executor: options.executor,
    limit: concurrent,
  });
  await setConcurrent(configPath, concurrent);
}

async function setConcurrent(configPath: string, concurrent: number): Promise<void> {
  const text = await readFile(configPath, 'utf8');
  await writeFile(configPath, text.replace(/^concurrent = \d+/m, `concurrent = ${concurrent}`));
}

/** The DSN of an existing config.toml (so the coordinator's start is reported too), else none. */
async function existingDsn(configPath: string): Promise<string | undefined> {
  if (!(await exists(configPath))) return undefined;
  return (await loadConfigFile(configPath).catch(() => null))?.config.sentry_dsn;
}

export async function startUp(options: UpOptions, baseLogger: Logger): Promise<RunningUp> {
  const dataDir = path.resolve(options.dataDir);
  const configPath = path.join(dataDir, 'runner', 'config.toml');
  const reporter = createErrorReporter({
    dsn: await existingDsn(configPath),
    clock: systemClock,
    logger: baseLogger,
    release: FLOTILLA_VERSION,
  });
  const logger = reportingLogger(baseLogger, reporter);
  const coordinator = await startCoordinator({
    listen: options.listen,
    dataDir: path.join(dataDir, 'coordinator'),
    ...(options.database ? { databaseUrl: options.database } : {}),
    logger,
    onRootTokenCreated: (token) => say(`Root access token (shown once): ${token}`),
  });
  try {
    await ensureRunnerConfig(configPath, coordinator, options);
    const { config, warnings } = await loadConfigFile(configPath);
    reporter.setDsn(config.sentry_dsn);
    for (const w of warnings) logger.warn({ key: w.path, reason: w.message }, 'config warning');
    const { manager, executors } = await createConfiguredManager(config, configPath, logger, {
      onConfigApplied: (next) => reporter.setDsn(next.sentry_dsn),
    });
    await manager.start();
    return { coordinator, manager, executors, reporter, logger, configPath };
  } catch (err) {
    await coordinator.close();
    throw err;
  }
}
