/**
 * The runner manager's own Prometheus HTTP SD answer (`/-/discovery/targets` on `listen_address`),
 * for a Prometheus that scrapes managers directly rather than through the coordinator's list.
 *
 * Labels (all `__meta_`, for relabeling): component `runner-manager`, `state` (`running`, or
 * `stopping` once a stop began), `system_id` and `runners` (`,short1,short2,`); then the autoscaled machines' exporters
 * (`extraTargets`, see observability/machine-targets.ts). The last two are
 * read back from the `gitlab_runner_limit` series, which the manager sets for every `[[runners]]`
 * entry of the applied config, so they follow config reloads without more wiring.
 */
import type { Registry } from 'prom-client';

import { cleanLabels, hostOfHeader, reachableAddress, type TargetGroup } from '../observability/http-sd.js';

export interface ManagerTargetsOptions {
  /** The local address of the connection the request came in on. */
  address: string;
  /** The request's Host header: the name the scraper used, preferred over the socket address. */
  hostHeader: string | undefined;
  registry: Registry;
  ready(): boolean;
  /** More target groups (the autoscaled machines' exporters). */
  extraTargets?(): Promise<readonly TargetGroup[]>;
}

interface ConfiguredRunners {
  systemId: string | undefined;
  runners: string[];
}

async function configuredRunners(registry: Registry): Promise<ConfiguredRunners> {
  const limit = registry.getSingleMetric('gitlab_runner_limit');
  if (!limit) return { systemId: undefined, runners: [] };
  const { values } = await limit.get();
  const runners = new Set<string>();
  let systemId: string | undefined;
  for (const { labels } of values) {
    if (typeof labels['runner'] === 'string') runners.add(labels['runner']);
    if (typeof labels['system_id'] === 'string') systemId = labels['system_id'];
  }
  return { systemId, runners: [...runners].sort() };
}

export async function managerTargets(options: ManagerTargetsOptions): Promise<TargetGroup[]> {
  const host = hostOfHeader(options.hostHeader);
  const target = host ? reachableAddress(`${host}:${portOf(options.address)}`, undefined) : null;
  const address = target ?? reachableAddress(options.address, '127.0.0.1');
  const { systemId, runners } = await configuredRunners(options.registry);
  const self: TargetGroup = {
    targets: address ? [address] : [],
    labels: cleanLabels({
      __meta_flotilla_component: 'runner-manager',
      __meta_flotilla_state: options.ready() ? 'running' : 'stopping',
      __meta_flotilla_system_id: systemId,
      __meta_flotilla_runners: `,${runners.join(',')},`,
    }),
  };
  return [self, ...((await options.extraTargets?.()) ?? [])];
}

function portOf(address: string): string {
  return address.slice(address.lastIndexOf(':') + 1);
}
