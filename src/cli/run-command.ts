/**
 * `flotilla run [DIR]`: runs a directory's `.gitlab-ci.yml` exactly as CI would, through a real
 * coordinator and runner: embedded ones (a throwaway SQLite coordinator and a shell runner in this
 * process), or a running coordinator given by `--url`/`--token` whose runners pick the jobs up.
 * The working tree (uncommitted changes included) is pushed as the project's branch; each job's log
 * streams to the terminal; the exit code is 0 only when the pipeline succeeded.
 */
import type { Command } from 'commander';

import type { RunFlags } from './run/run-action.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      "Run a directory's .gitlab-ci.yml through a coordinator and runner, streaming each job's log",
    )
    .argument('[dir]', 'the directory with the .gitlab-ci.yml (default: the current one)')
    .option('--url <url>', 'use this running coordinator (and its runners) instead of embedded ones')
    .option('--token <token>', 'access token for --url (or FLOTILLA_TOKEN)')
    .option(
      '--executor <name>',
      'executor of the embedded runner: auto (docker when an engine and the helper image are there, else shell), shell or docker',
      'auto',
    )
    .option('--image <name>', 'default image for jobs without image: (docker executor)', 'busybox:latest')
    .option('--concurrent <n>', 'jobs the embedded runner runs at once', '4')
    .option('--keep', 'keep the embedded coordinator data and build directories')
    .option('--verbose', 'show the embedded coordinator and runner logs')
    .option('--no-color', 'no colors in the output')
    .action(async (dir: string | undefined, flags: RunFlags) => {
      // Loaded here so that other commands do not load the coordinator and the runner.
      const { runCommand } = await import('./run/run-action.js');
      await runCommand(dir, flags);
    });
}
