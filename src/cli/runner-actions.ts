/**
 * `flotilla runner register|run|unregister`: the composition root of the runner manager. This is
 * the only place that builds concrete objects (logger, clock, metrics registry, executors).
 * Without `--config`, config.toml is `/etc/flotilla/config.toml` for root and
 * `~/.flotilla/config.toml` otherwise.
 * This file holds the actions; `runner-command.ts` registers them and imports this file on demand.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

import { loadConfigFile } from '../runner/config/load.js';
import { defaultConfigPath } from '../runner/config/paths.js';
import { SUPPORTED_EXECUTORS } from '../runner/config/schema.js';
import { loadOrCreateSystemId } from '../runner/config/system-id.js';
import { addRunnerToConfigFile, removeRunnersFromConfigFile } from '../runner/config/write.js';
import type { ExecutorFactory } from '../executors/executor.js';
import { createErrorReporter } from '../observability/error-reporter.js';
import { reportingLogger } from '../observability/reporting-logger.js';
import { createCoordinatorClient } from '../runner/coordinator-client.js';
import { FLOTILLA_VERSION, runnerInfo, shortToken, userAgent } from '../runner/version.js';
import { systemClock } from '../shared/clock.js';
import { parseDuration } from '../shared/duration.js';
import { FlotillaError } from '../shared/errors.js';
import { createLogger, type LogFormat, type LogLevel, type Logger } from '../shared/logger.js';
import { createConfiguredManager, runnerExecutors } from './executors.js';
import { installSignalHandlers } from './signals.js';
import { processAlive } from '../shared/process-alive.js';

/** Every executor this build ships, for `run` and for `register`'s `info`. */
export function builtinExecutorFactories(): ExecutorFactory[] {
  return runnerExecutors(createLogger({ level: 'error' })).executorFactories;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

export interface RegisterOptions {
  url: string;
  token: string;
  config?: string;
  name?: string;
  executor: string;
  buildsDir?: string;
}

export async function register(options: RegisterOptions): Promise<void> {
  if (!options.token.startsWith('glrt-')) {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      '--token must be a runner authentication token (glrt-...); registration tokens are not supported, create the runner in the coordinator first',
    );
  }
  const factory = builtinExecutorFactories().find((f) => f.name === options.executor);
  if (!factory) {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `--executor must be one of: ${SUPPORTED_EXECUTORS.join(', ')}`,
    );
  }
  const configPath = options.config ?? defaultConfigPath();
  await mkdir(dirname(configPath), { recursive: true, mode: 0o700 });
  const systemId = await loadOrCreateSystemId(configPath);
  const client = createCoordinatorClient({
    url: options.url,
    token: options.token,
    systemId,
    userAgent: userAgent(FLOTILLA_VERSION),
    info: runnerInfo({
      version: FLOTILLA_VERSION,
      executor: factory.name,
      shell: factory.shell,
      features: factory.features,
    }),
  });
  const verified = await client.verify();
  if (verified.status === 403)
    throw new FlotillaError(
      'FLO_ERR_FORBIDDEN',
      'the coordinator rejected the token (invalid or removed runner)',
    );
  if (verified.status !== 200) {
    throw new FlotillaError(
      'FLO_ERR_COORDINATOR_UNREACHABLE',
      `verifying the runner failed (HTTP ${verified.status || 'no answer'}) at ${options.url}`,
    );
  }
  const expires = verified.body?.token_expires_at;
  await addRunnerToConfigFile(configPath, {
    name: options.name ?? hostname(),
    url: options.url,
    id: verified.body?.id ?? 0,
    token: options.token,
    token_obtained_at: new Date(),
    ...(expires ? { token_expires_at: new Date(expires) } : {}),
    executor: factory.name,
    ...(options.buildsDir ? { builds_dir: options.buildsDir } : {}),
  });
  out(
    `Runner registered successfully (${shortToken(options.token)}). Config saved in ${configPath}; start it with: flotilla runner run --config ${configPath}`,
  );
}

export interface RunOptions {
  config?: string;
  pidFile?: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

function loggerFor(level: LogLevel, format: string): Logger {
  return createLogger({ level, format: format === 'json' ? 'json' : 'text', name: 'flotilla-runner' });
}

export async function run(options: RunOptions): Promise<void> {
  const configPath = options.config ?? defaultConfigPath();
  const { config, warnings } = await loadConfigFile(configPath);
  const baseLogger = loggerFor(options.logLevel ?? config.log_level, options.logFormat ?? config.log_format);
  const reporter = createErrorReporter({
    dsn: config.sentry_dsn,
    clock: systemClock,
    logger: baseLogger,
    release: FLOTILLA_VERSION,
  });
  const logger = reportingLogger(baseLogger, reporter);
  for (const w of warnings) logger.warn({ key: w.path, reason: w.message }, 'config warning');
  if (config.runners.length === 0)
    logger.warn(
      { path: configPath },
      'no [[runners]] in the config; register one with flotilla runner register',
    );
  const { manager, executors } = await createConfiguredManager(config, configPath, logger, {
    onConfigApplied: (next) => {
      reporter.setDsn(next.sentry_dsn);
      if (!options.logLevel) logger.level = next.log_level === 'panic' ? 'fatal' : next.log_level;
    },
  });
  const signals = installSignalHandlers(manager, { logger });
  try {
    if (options.pidFile) await writeFile(options.pidFile, `${process.pid}\n`);
    await manager.start();
    await signals.stopped;
  } finally {
    signals.dispose();
    await reporter.flush();
    await executors.stopFleets();
    if (options.pidFile) await rm(options.pidFile, { force: true });
  }
}

export interface StopOptions {
  pidFile: string;
  graceful?: boolean;
  timeout?: string;
}

/** Signals the `runner run` whose pid is in the pid file, then waits for it to exit. */
export async function stop(options: StopOptions): Promise<void> {
  const pid = Number((await readFile(options.pidFile, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 0)
    throw new FlotillaError('FLO_ERR_CONFIG_INVALID', `${options.pidFile} holds no pid`);
  const timeoutMs = parseDuration(options.timeout ?? (options.graceful ? '1h' : '60s')) * 1000;
  process.kill(pid, options.graceful ? 'SIGQUIT' : 'SIGTERM');
  const deadline = systemClock.monotonic() + timeoutMs;
  while (processAlive(pid)) {
    if (systemClock.monotonic() > deadline) {
      throw new FlotillaError(
        'FLO_ERR_INTERNAL',
        `runner ${pid} did not stop within ${options.timeout ?? 'the timeout'}`,
      );
    }
    await systemClock.sleep(100);
  }
  out(`Runner ${pid} stopped`);
}

export interface UnregisterOptions {
  config?: string;
  name?: string;
  allRunners?: boolean;
}

export async function unregister(options: UnregisterOptions): Promise<void> {
  if (!options.name && !options.allRunners)
    throw new FlotillaError('FLO_ERR_CONFIG_INVALID', 'give --name NAME or --all-runners');
  const configPath = options.config ?? defaultConfigPath();
  const { config } = await loadConfigFile(configPath);
  const systemId = await loadOrCreateSystemId(configPath);
  const selected = config.runners.filter((r) => options.allRunners || r.name === options.name);
  if (selected.length === 0)
    throw new FlotillaError('FLO_ERR_NOT_FOUND', `no runner named "${options.name ?? ''}" in ${configPath}`);
  const removed = new Set<string>();
  let failures = 0;
  for (const runner of selected) {
    const client = createCoordinatorClient({
      url: runner.url,
      token: runner.token,
      systemId,
      info: {},
      userAgent: userAgent(FLOTILLA_VERSION),
    });
    const status = await client.unregister();
    if (status === 204 || status === 403) {
      removed.add(runner.token);
      out(
        `Unregistered runner ${runner.name} (${shortToken(runner.token)})${status === 403 ? ': it was already removed on the coordinator' : ''}`,
      );
    } else {
      failures++;
      process.stderr.write(
        `flotilla: unregistering ${runner.name} failed (HTTP ${status || 'no answer'}); kept in ${configPath}\n`,
      );
    }
  }
  await removeRunnersFromConfigFile(configPath, (r) => removed.has(r.token));
  if (failures > 0) process.exitCode = 1;
}
