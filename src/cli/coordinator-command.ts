/** `flotilla coordinator`: the GitLab-compatible coordinator as a long-running server. */
import type { Command } from 'commander';

import type { LogFormat, LogLevel } from '../shared/logger.js';
import { say } from './output.js';

interface CoordinatorFlags {
  listen: string;
  dataDir: string;
  database?: string;
  externalUrl?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  longPollSeconds: string;
  runnerStaleSeconds: string;
  consulAddress?: string;
  consulService: string;
  consulInterval: string;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${flag} must be a positive number of seconds, got "${value}"`);
  return n;
}

async function runCoordinator(flags: CoordinatorFlags): Promise<void> {
  // Loaded only when this command runs, so that other commands start faster.
  const { createLogger } = await import('../shared/logger.js');
  const { startCoordinator } = await import('./start-coordinator.js');
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat, name: 'coordinator' });
  const running = await startCoordinator({
    listen: flags.listen,
    dataDir: flags.dataDir,
    ...(flags.database ? { databaseUrl: flags.database } : {}),
    ...(flags.externalUrl ? { externalUrl: flags.externalUrl } : {}),
    logger,
    config: {
      longPollSeconds: positive(flags.longPollSeconds, '--long-poll-seconds'),
      runnerStaleSeconds: positive(flags.runnerStaleSeconds, '--runner-stale-seconds'),
      ...(flags.consulAddress
        ? {
            consul: {
              address: flags.consulAddress,
              token: process.env['CONSUL_HTTP_TOKEN'],
              serviceName: flags.consulService,
              intervalSeconds: positive(flags.consulInterval, '--consul-interval'),
            },
          }
        : {}),
    },
    onRootTokenCreated: (token, file) => {
      say(`Root access token (shown once, also saved in ${file}):`);
      say(`  ${token}`);
    },
  });
  logger.info({ url: running.url }, 'coordinator listening');
  say(`Flotilla coordinator listening on ${running.url}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'coordinator shutting down');
      void running.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGQUIT', () => stop('SIGQUIT'));
  });
}

export function registerCoordinatorCommand(program: Command): void {
  program
    .command('coordinator')
    .description('Run the coordinator: Runner API v4, REST API v4, git hosting, pipelines')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option(
      '--data-dir <dir>',
      'where the database, repositories and artifacts live',
      '.flotilla/coordinator',
    )
    .option('--database <url>', 'sqlite:PATH or postgres://... (default: SQLite in the data dir)')
    .option('--external-url <url>', 'URL runners and git clients use to reach this coordinator')
    .option('--long-poll-seconds <n>', 'how long POST /jobs/request is held', '50')
    .option('--runner-stale-seconds <n>', 'fail running jobs whose runner is silent this long', '600')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--log-format <format>', 'json or text', 'text')
    .option(
      '--consul-address <url>',
      'register the coordinator and the managers it lists in this Consul agent (token: CONSUL_HTTP_TOKEN)',
    )
    .option('--consul-service <name>', 'Consul service name of the targets', 'flotilla')
    .option('--consul-interval <seconds>', 'seconds between Consul registrations', '30')
    .action((flags: CoordinatorFlags) => runCoordinator(flags));
}
