/**
 * The provider exporter: the inventory as the provider sees it (not as the manager believes it),
 * refreshed every interval to protect the API quota: machines by state, machine ages, creation
 * (first seen creating → running) and deletion (deleting → gone) durations, API errors by kind
 * (rate limits included). Runs inside the manager and as `flotilla fleet exporter`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { registeredOnce } from '../shared/registered-metrics.js';
import { PartialUpdateError, splitKey } from './provider-group.js';
import { providerErrorKind, type InstanceGroup, type InstanceState } from './providers/provider.js';

const STATES: InstanceState[] = ['creating', 'running', 'deleting', 'deleted', 'timeout'];

export interface ProviderExporter {
  /** Lists the provider once and updates the metrics. */
  scrape(): Promise<void>;
}

function metricsOf(registry: Registry): {
  machines: Gauge<'runner' | 'provider' | 'state'>;
  age: Gauge<'runner' | 'provider' | 'machine'>;
  creation: Histogram<'runner' | 'provider'>;
  deletion: Histogram<'runner' | 'provider'>;
  errors: Counter<'runner' | 'provider' | 'kind'>;
} {
  const get = <M>(name: string, make: () => M): M => registeredOnce(registry, name, make);
  const buckets = [1, 2, 5, 10, 30, 60, 120, 300, 600];
  return {
    machines: get(
      'flotilla_provider_machines',
      () =>
        new Gauge({
          name: 'flotilla_provider_machines',
          help: 'Machines at the provider by state.',
          labelNames: ['runner', 'provider', 'state'],
          registers: [registry],
        }),
    ),
    age: get(
      'flotilla_provider_machine_age_seconds',
      () =>
        new Gauge({
          name: 'flotilla_provider_machine_age_seconds',
          help: 'Age of each machine at the provider.',
          labelNames: ['runner', 'provider', 'machine'],
          registers: [registry],
        }),
    ),
    creation: get(
      'flotilla_provider_machine_creation_duration_seconds',
      () =>
        new Histogram({
          name: 'flotilla_provider_machine_creation_duration_seconds',
          help: 'From first seen (or created) to running, as listed.',
          labelNames: ['runner', 'provider'],
          buckets,
          registers: [registry],
        }),
    ),
    deletion: get(
      'flotilla_provider_machine_deletion_duration_seconds',
      () =>
        new Histogram({
          name: 'flotilla_provider_machine_deletion_duration_seconds',
          help: 'From first seen deleting to gone, as listed.',
          labelNames: ['runner', 'provider'],
          buckets,
          registers: [registry],
        }),
    ),
    errors: get(
      'flotilla_provider_api_errors_total',
      () =>
        new Counter({
          name: 'flotilla_provider_api_errors_total',
          help: 'Failed listings by error kind (rate_limit, capacity, api, timeout).',
          labelNames: ['runner', 'provider', 'kind'],
          registers: [registry],
        }),
    ),
  };
}

export function createProviderExporter(o: {
  runner: string;
  group: InstanceGroup;
  registry: Registry;
  clock: Clock;
  logger: Logger;
}): ProviderExporter {
  const m = metricsOf(o.registry);
  const creatingSince = new Map<string, number>();
  const deletingSince = new Map<string, number>();
  return {
    async scrape() {
      const now = o.clock.now().getTime();
      const seen = new Map<string, { state: InstanceState; createdAt?: Date }>();
      try {
        await o.group.update((i) => seen.set(i.id, i));
      } catch (err) {
        const failed = err instanceof PartialUpdateError ? err.providers : ['all'];
        for (const provider of failed)
          m.errors.inc({ runner: o.runner, provider, kind: providerErrorKind(err) });
        o.logger.warn({ err }, 'provider listing failed');
      }
      m.machines.reset();
      m.age.reset();
      const counts = new Map<string, number>();
      for (const [key, i] of seen) {
        const provider = splitKey(key).provider || key;
        counts.set(`${provider}|${i.state}`, (counts.get(`${provider}|${i.state}`) ?? 0) + 1);
        if (i.createdAt)
          m.age.set({ runner: o.runner, provider, machine: key }, (now - i.createdAt.getTime()) / 1000);
        if (i.state === 'creating' && !creatingSince.has(key))
          creatingSince.set(key, i.createdAt?.getTime() ?? now);
        if (i.state === 'running' && creatingSince.has(key)) {
          m.creation.observe({ runner: o.runner, provider }, (now - (creatingSince.get(key) ?? now)) / 1000);
          creatingSince.delete(key);
        }
        if (i.state === 'deleting' && !deletingSince.has(key)) deletingSince.set(key, now);
      }
      for (const [key, since] of deletingSince) {
        if (seen.has(key)) continue;
        m.deletion.observe(
          { runner: o.runner, provider: splitKey(key).provider || key },
          (now - since) / 1000,
        );
        deletingSince.delete(key);
      }
      for (const key of creatingSince.keys()) if (!seen.has(key)) creatingSince.delete(key);
      const providers = new Set([...counts.keys()].map((k) => k.split('|')[0] ?? ''));
      for (const provider of providers)
        for (const state of STATES)
          m.machines.set({ runner: o.runner, provider, state }, counts.get(`${provider}|${state}`) ?? 0);
    },
  };
}
