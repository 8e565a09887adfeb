/**
 * `[consul]` for the runner manager: registers the same targets as its `/-/discovery/targets`
 * (itself and its machines' exporters) in a Consul agent (see observability/consul.ts). A manager
 * bound to a wildcard address is registered under this host's name.
 */
import { hostname } from 'node:os';

import type { Registry } from 'prom-client';

import type { ConsulConfig } from './config/schema.js';
import { createConsulRegistrar, type ConsulRegistrar } from '../observability/consul.js';
import { isUnspecifiedHost, splitHostPort, type TargetGroup } from '../observability/http-sd.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { managerTargets } from './discovery.js';

export interface ManagerConsulOptions {
  config: ConsulConfig;
  /** The status server's bound `host:port`. */
  statusAddress: string;
  registry: Registry;
  ready(): boolean;
  extraTargets?: () => Promise<readonly TargetGroup[]>;
  clock: Clock;
  logger: Logger;
  fetch?: typeof fetch;
}

/** Starts the periodic registration; `stop()` deregisters. */
export function startManagerConsul(o: ManagerConsulOptions): ConsulRegistrar {
  const bound = splitHostPort(o.statusAddress).host;
  const registrar = createConsulRegistrar({
    settings: {
      address: o.config.address,
      token: o.config.token,
      serviceName: o.config.service_name,
      intervalSeconds: o.config.interval,
    },
    targets: () =>
      managerTargets({
        address: o.statusAddress,
        hostHeader: isUnspecifiedHost(bound) ? hostname() : undefined,
        registry: o.registry,
        ready: o.ready,
        ...(o.extraTargets ? { extraTargets: o.extraTargets } : {}),
      }),
    clock: o.clock,
    logger: o.logger,
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
  registrar.start();
  return registrar;
}
