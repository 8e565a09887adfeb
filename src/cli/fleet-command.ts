/**
 * `flotilla fleet`: operations on the docker-autoscaler fleets of a config.toml.
 * - `pause PROVIDER` / `unpause PROVIDER` / `auto PROVIDER`: hand-set pauses, read by running
 *   managers within seconds (a paused provider gets no new machines; `auto` gives it back to failover).
 * - `clean [--dry-run]`: the orphan and zero-id cleaners, once.
 * - `exporter [--listen ADDR]`: serves the providers' inventory on /metrics (and /-/health, /-/ready).
 */
import type { Command } from 'commander';

import { defaultConfigPath } from '../runner/config/paths.js';

/** The actions, loaded only when a `fleet` command runs, so that other commands start faster. */
const actions = () => import('./fleet-actions.js');

export function registerFleetCommand(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('Operate docker-autoscaler fleets: pause providers, clean orphans, export inventory.');
  const configOption = ['-c, --config <path>', 'config.toml', defaultConfigPath()] as const;
  for (const [name, value, what] of [
    ['pause', true, 'Stop creating machines at PROVIDER (a backup stays paused; a primary fails over).'],
    ['unpause', false, 'Let PROVIDER create machines (a backup takes new machines at once).'],
    ['auto', null, 'Give PROVIDER back to automatic failover.'],
  ] as const) {
    fleet
      .command(`${name} <provider>`)
      .description(what)
      .option(...configOption)
      .action(async (provider: string, opts: { config: string }) =>
        (await actions()).setPause(opts.config, provider, value),
      );
  }
  fleet
    .command('clean')
    .description('Remove orphan machines (at the provider, in no state) and old zero-id state entries.')
    .option(...configOption)
    .option('--dry-run', 'only report what would be removed', false)
    .option('--runner <name>', 'only this [[runners]] entry')
    .action(async (opts: { config: string; dryRun: boolean; runner?: string }) => {
      process.exitCode = await (await actions()).clean(opts.config, opts);
    });
  fleet
    .command('exporter')
    .description("Serve the providers' inventory as Prometheus metrics.")
    .option(...configOption)
    .option('--listen <addr>', 'host:port of /metrics', '127.0.0.1:9405')
    .option('--interval <seconds>', 'seconds between provider listings', '60')
    .action(async (opts: { config: string; listen: string; interval: string }) =>
      (await actions()).exporter(opts.config, opts.listen, Number(opts.interval)),
    );
}
