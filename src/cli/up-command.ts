/**
 * `flotilla up`: the whole system on one machine: a coordinator (SQLite in the data dir) and a
 * registered runner manager in one process (see up-start.ts). The runner's config.toml lives in the
 * data dir and reloads live; SIGQUIT drains running jobs before the coordinator stops.
 */
import path from 'node:path';

import type { Command } from 'commander';

import type { LogFormat, LogLevel } from '../shared/logger.js';
import { say } from './output.js';
import { installSignalHandlers } from './signals.js';
import type { RunningCoordinator } from './start-coordinator.js';
import type { UpOptions } from './up-start.js';

interface UpFlags extends UpOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
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

async function up(flags: UpFlags): Promise<void> {
  // Loaded only when this command runs, so that other commands start faster.
  const { createLogger } = await import('../shared/logger.js');
  const { startUp } = await import('./up-start.js');
  const baseLogger = createLogger({ level: flags.logLevel, format: flags.logFormat, name: 'flotilla' });
  const { coordinator, manager, executors, reporter, logger, configPath } = await startUp(flags, baseLogger);
  try {
    printWelcome(coordinator, configPath, path.join(path.resolve(flags.dataDir), 'coordinator'));
    const signals = installSignalHandlers(manager, { logger });
    await signals.stopped;
    signals.dispose();
    await executors.stopFleets();
  } finally {
    await coordinator.close();
    await reporter.flush();
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
