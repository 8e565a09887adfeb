/**
 * `flotilla up`: the whole system on one machine: a coordinator (SQLite in the data dir) and a
 * registered runner manager in one process. The runner's config.toml lives in the data dir and
 * reloads live; SIGQUIT drains running jobs before the coordinator stops.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';

import type { Command } from 'commander';

import { loadConfigFile } from '../config/load.js';
import { addRunnerToConfigFile } from '../config/write.js';
import { FlotillaError } from '../shared/errors.js';
import { createLogger, type LogFormat, type LogLevel, type Logger } from '../shared/logger.js';
import { say } from './output.js';
import { RestClient } from './rest-client.js';
import { createConfiguredManager } from './executors.js';
import { installSignalHandlers } from './signals.js';
import { startCoordinator, type RunningCoordinator } from './start-coordinator.js';

interface UpFlags {
  listen: string;
  dataDir: string;
  database?: string;
  executor: string;
  concurrent: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
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
  flags: UpFlags,
): Promise<void> {
  if (await exists(configPath)) return;
  const concurrent = Number(flags.concurrent);
  if (!Number.isInteger(concurrent) || concurrent < 1) {
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `--concurrent must be a positive integer, got "${flags.concurrent}"`,
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
    executor: flags.executor,
    limit: concurrent,
  });
  await setConcurrent(configPath, concurrent);
}

async function setConcurrent(configPath: string, concurrent: number): Promise<void> {
  const { readFile, writeFile } = await import('node:fs/promises');
  const text = await readFile(configPath, 'utf8');
  await writeFile(configPath, text.replace(/^concurrent = \d+/m, `concurrent = ${concurrent}`));
}

function printWelcome(coordinator: RunningCoordinator, configPath: string, dataDir: string): void {
  say(`Flotilla is up: coordinator ${coordinator.url}, runner config ${configPath}`);
  say(`Root access token: ${path.join(dataDir, 'root-token')}`);
  say('Create a project and push to it; each push runs its .gitlab-ci.yml:');
  say(
    `  curl -H "PRIVATE-TOKEN: $(cat ${path.join(dataDir, 'root-token')})" -d name=demo ${coordinator.url}/api/v4/projects`,
  );
  say(`  git push ${coordinator.url.replace('://', '://root:<token>@')}/root/demo.git main`);
  say('Stop with Ctrl-C (aborts running jobs) or SIGQUIT (waits for them).');
}

async function startRunner(configPath: string, logger: Logger) {
  const { config, warnings } = await loadConfigFile(configPath);
  for (const w of warnings) logger.warn({ key: w.path, reason: w.message }, 'config warning');
  const { manager, executors } = await createConfiguredManager(config, configPath, logger);
  await manager.start();
  return { manager, executors };
}

async function up(flags: UpFlags): Promise<void> {
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat, name: 'flotilla' });
  const dataDir = path.resolve(flags.dataDir);
  const coordinator = await startCoordinator({
    listen: flags.listen,
    dataDir: path.join(dataDir, 'coordinator'),
    ...(flags.database ? { databaseUrl: flags.database } : {}),
    logger,
    onRootTokenCreated: (token) => say(`Root access token (shown once): ${token}`),
  });
  try {
    const configPath = path.join(dataDir, 'runner', 'config.toml');
    await ensureRunnerConfig(configPath, coordinator, flags);
    const { manager, executors } = await startRunner(configPath, logger);
    printWelcome(coordinator, configPath, path.join(dataDir, 'coordinator'));
    const signals = installSignalHandlers(manager, { logger });
    await signals.stopped;
    signals.dispose();
    await executors.stopFleets();
  } finally {
    await coordinator.close();
  }
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('Start a coordinator and a registered runner on this machine')
    .option('--listen <host:port>', 'coordinator address', '127.0.0.1:8080')
    .option(
      '--data-dir <dir>',
      'where the database, repositories, artifacts and runner config live',
      '.flotilla',
    )
    .option('--database <url>', 'sqlite:PATH or postgres://... (default: SQLite in the data dir)')
    .option('--executor <name>', 'executor of the local runner (first start only)', 'shell')
    .option('--concurrent <n>', 'jobs the local runner runs at once (first start only)', '4')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--log-format <format>', 'json or text', 'text')
    .action((flags: UpFlags) => up(flags));
}
