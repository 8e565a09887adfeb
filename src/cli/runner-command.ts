/**
 * `flotilla runner register|run|unregister`: the composition root of the runner manager. This is
 * the only place that builds concrete objects (logger, clock, metrics registry, executors).
 * Without `--config`, config.toml is `/etc/flotilla/config.toml` for root and
 * `~/.flotilla/config.toml` otherwise.
 */
import { Option, type Command } from 'commander';

import { LOG_FORMATS, LOG_LEVELS, SUPPORTED_EXECUTORS } from '../runner/config/schema.js';
import type { RegisterOptions, RunOptions, StopOptions, UnregisterOptions } from './runner-actions.js';

/** The actions, loaded only when a `runner` command runs, so that other commands start faster. */
const actions = () => import('./runner-actions.js');

/** Adds `flotilla runner register|run|unregister` to the program. */
export function registerRunnerCommand(program: Command): void {
  const runner = program
    .command('runner')
    .description('Run and manage a runner manager (config.toml, shell executor)');
  const configHelp =
    'config.toml path (default /etc/flotilla/config.toml as root, else ~/.flotilla/config.toml)';
  runner
    .command('register')
    .description('Verify a runner authentication token with the coordinator and add it to config.toml')
    .requiredOption('--url <url>', 'coordinator URL, e.g. http://127.0.0.1:8080/')
    .requiredOption('--token <token>', 'runner authentication token (glrt-...)')
    .option('-c, --config <path>', configHelp)
    .option('--name <name>', 'runner name in config.toml (default: host name)')
    .option('--executor <executor>', `executor: ${SUPPORTED_EXECUTORS.join(', ')}`, 'shell')
    .option('--builds-dir <dir>', 'builds_dir for this runner')
    .option('-n, --non-interactive', 'accepted for gitlab-runner compatibility (always non-interactive)')
    .action(async (opts: RegisterOptions) => (await actions()).register(opts));
  runner
    .command('run')
    .description(
      'Poll the coordinators in config.toml and run jobs until stopped (SIGQUIT drains, SIGTERM aborts, SIGHUP reloads)',
    )
    .option('-c, --config <path>', configHelp)
    .addOption(new Option('--log-level <level>', 'overrides log_level').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'overrides log_format').choices(LOG_FORMATS))
    .option('--pid-file <path>', 'write the process id here (for `flotilla runner stop`)')
    .action(async (opts: RunOptions) => (await actions()).run(opts));
  runner
    .command('stop')
    .description('Stop a running `flotilla runner run` started with --pid-file')
    .requiredOption('--pid-file <path>', 'the pid file given to `runner run`')
    .option('--graceful', 'wait for running jobs (SIGQUIT) instead of aborting them (SIGTERM)')
    .option(
      '--timeout <duration>',
      'how long to wait for the process to exit (default 1h graceful, 60s otherwise)',
    )
    .action(async (opts: StopOptions) => (await actions()).stop(opts));
  runner
    .command('unregister')
    .description('Remove runners from the coordinator (DELETE /api/v4/runners) and from config.toml')
    .option('-c, --config <path>', configHelp)
    .option('--name <name>', 'the runner entry to remove')
    .option('--all-runners', 'remove every runner entry')
    .action(async (opts: UnregisterOptions) => (await actions()).unregister(opts));
}
