/**
 * `flotilla fleet`: operations on the docker-autoscaler fleets of a config.toml.
 * - `pause PROVIDER` / `unpause PROVIDER` / `auto PROVIDER`: hand-set pauses, read by running
 *   managers within seconds (a paused provider gets no new machines; `auto` gives it back to failover).
 * - `clean [--dry-run]`: the orphan and zero-id cleaners, once.
 * - `exporter [--listen ADDR]`: serves the providers' inventory on /metrics (and /-/health, /-/ready).
 * This file holds the actions; `fleet-command.ts` registers them and imports this file on demand.
 */
import http from 'node:http';

import { Registry } from 'prom-client';

import {
  autoscalerConfigSchema,
  providerEntries,
  type AutoscalerConfig,
} from '../autoscaler/autoscaler-config.js';
import { cleanFleet } from '../autoscaler/cleaner.js';
import { createProviderExporter } from '../autoscaler/exporter.js';
import { buildGroup, knownKeys } from '../autoscaler/fleet.js';
import { autoscalerMetrics } from '../autoscaler/metrics.js';
import {
  controlPath,
  defaultStatePath,
  readControl,
  readState,
  writeControl,
  writeState,
} from '../autoscaler/state-store.js';
import { parseTomlText, readConfigText, validateSection } from '../runner/config/load.js';
import { systemClock } from '../shared/clock.js';
import { FlotillaError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { say } from './output.js';
import { loadEnvProviderPlugins } from './provider-plugins.js';

interface FleetEntry {
  name: string;
  config: AutoscalerConfig;
  statePath: string;
}

/**
 * The docker-autoscaler entries of a config file. Only their `[runners.autoscaler]` tables are
 * validated (a fleet command needs no runner token); errors read as the runner's own.
 */
export async function fleetEntries(configPath: string, only?: string): Promise<FleetEntry[]> {
  const raw = parseTomlText(await readConfigText(configPath), configPath) as { runners?: unknown };
  const runners = (Array.isArray(raw.runners) ? raw.runners : []) as { name?: string; executor?: string }[];
  return runners.flatMap((r, i) => {
    if (r.executor !== 'docker-autoscaler' || (only && r.name !== only)) return [];
    const name = r.name ?? 'runner';
    const config = validateSection(autoscalerConfigSchema, raw, ['runners', i, 'autoscaler'], configPath);
    return [{ name, config, statePath: config.state_file ?? defaultStatePath(configPath, name) }];
  });
}

/** Refuses a provider name that no docker-autoscaler runner of the config file has (when it exists). */
async function checkProvider(configPath: string, provider: string): Promise<void> {
  let entries: FleetEntry[];
  try {
    entries = await fleetEntries(configPath);
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    if (cause?.code === 'ENOENT') return;
    throw err;
  }
  const known = [...new Set(entries.flatMap((e) => providerEntries(e.config).map((p) => p.name)))];
  if (!known.includes(provider))
    throw new FlotillaError(
      'FLO_ERR_CONFIG_INVALID',
      `no provider "${provider}" in the docker-autoscaler runners of ${configPath}; known providers: ${known.join(', ') || 'none'}`,
    );
}

export async function setPause(configPath: string, provider: string, value: boolean | null): Promise<void> {
  await checkProvider(configPath, provider);
  const path = controlPath(configPath);
  const control = await readControl(path);
  if (value === null) delete control.providers[provider];
  else control.providers[provider] = value;
  await writeControl(path, control);
  say(`provider ${provider}: ${value === null ? 'automatic' : value ? 'paused' : 'unpaused'}`);
}

export async function clean(
  configPath: string,
  options: { dryRun: boolean; runner?: string },
): Promise<number> {
  const logger = createLogger({ level: 'info' });
  const registry = new Registry();
  const metrics = autoscalerMetrics(registry);
  await loadEnvProviderPlugins();
  let errors = 0;
  for (const e of await fleetEntries(configPath, options.runner)) {
    const group = buildGroup({ runnerName: e.name, config: e.config, clock: systemClock, logger }, metrics);
    await group.init({ clock: systemClock, logger });
    const state = await readState(e.statePath, e.name);
    const report = await cleanFleet({
      runner: e.name,
      group,
      known: await knownKeys(e.statePath),
      zeroIds: state.machines.filter((m) => !m.key || m.key.endsWith('/')),
      dropZeroIds: async (drop) => {
        const fresh = await readState(e.statePath, e.name);
        await writeState(e.statePath, {
          ...fresh,
          machines: fresh.machines.filter((m) => (m.key && !m.key.endsWith('/')) || !drop(m)),
        });
      },
      orphanMinAgeMs: e.config.cleaner.orphan_min_age * 1000,
      zeroIdMaxAgeMs: e.config.cleaner.zero_id_max_age * 1000,
      nowMs: Date.now(),
      dryRun: options.dryRun,
      logger,
      metrics,
    });
    await group.shutdown();
    errors += report.orphans.errors.length;
    const verb = options.dryRun ? 'would remove' : 'removed';
    say(
      `${e.name}: orphans found ${report.orphans.found.length}, ${verb} ${options.dryRun ? report.orphans.found.length : report.orphans.removed.length}; zero-id entries found ${report.zeroIds.found}, ${verb} ${options.dryRun ? report.zeroIds.found : report.zeroIds.removed}`,
    );
    for (const id of report.orphans.found) say(`  orphan ${id}`);
  }
  return errors > 0 ? 1 : 0;
}

export async function exporter(configPath: string, listen: string, intervalSeconds: number): Promise<void> {
  const logger = createLogger({ level: 'info' });
  const registry = new Registry();
  const metrics = autoscalerMetrics(registry);
  const scrapers: ReturnType<typeof createProviderExporter>[] = [];
  await loadEnvProviderPlugins();
  for (const e of await fleetEntries(configPath)) {
    const group = buildGroup({ runnerName: e.name, config: e.config, clock: systemClock, logger }, metrics);
    await group.init({ clock: systemClock, logger });
    scrapers.push(createProviderExporter({ runner: e.name, group, registry, clock: systemClock, logger }));
  }
  const scrapeAll = (): Promise<unknown> => Promise.all(scrapers.map((s) => s.scrape()));
  await scrapeAll();
  setInterval(() => void scrapeAll(), intervalSeconds * 1000);
  const [host, port] = listen.includes(':')
    ? [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)]
    : ['127.0.0.1', listen];
  http
    .createServer((req, res) => {
      if (req.url === '/-/health' || req.url === '/-/ready') return void res.writeHead(200).end('OK');
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      void registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
    })
    .listen(Number(port), host, () => say(`provider exporter on http://${host}:${port}/metrics`));
}
