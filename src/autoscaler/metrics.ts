/**
 * Autoscaler metrics on an injected prom-client Registry (registered once per registry; every
 * series carries the runner name): machines by state, creation duration, jobs waiting for
 * capacity, scale operations, provider API errors, cleaner results.
 */
import { Counter, Gauge, type Histogram, type Registry } from 'prom-client';
import { registeredHistogram as histogram, registeredOnce } from '../shared/registered-metrics.js';

export const MACHINE_STATES = ['idle', 'acquired', 'creating', 'used', 'removing'] as const;
export type MachineState = (typeof MACHINE_STATES)[number];

export interface AutoscalerMetrics {
  machines: Gauge<'runner' | 'state'>;
  creationDuration: Histogram<'runner' | 'provider'>;
  removalDuration: Histogram<'runner' | 'provider'>;
  waiting: Gauge<'runner'>;
  maxInstances: Gauge<'runner'>;
  operations: Counter<'runner' | 'operation' | 'result'>;
  providerErrors: Counter<'runner' | 'provider' | 'operation' | 'kind'>;
  providerPaused: Gauge<'runner' | 'provider'>;
  cleaner: Counter<'runner' | 'cleaner' | 'result'>;
  decisions: Counter<'runner' | 'action' | 'reason'>;
}

type Labels<T> = T extends Gauge<infer L> | Counter<infer L> | Histogram<infer L> ? L : never;

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  return registeredOnce(registry, name, () => new Gauge({ name, help, labelNames, registers: [registry] }));
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  return registeredOnce(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
}

const DURATION_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

export function autoscalerMetrics(registry: Registry): AutoscalerMetrics {
  return {
    machines: gauge(registry, 'flotilla_autoscaler_machines', 'Machines by state.', ['runner', 'state']),
    creationDuration: histogram(
      registry,
      'flotilla_autoscaler_machine_creation_duration_seconds',
      'From the creation request to the machine passing its ready check.',
      ['runner', 'provider'],
      DURATION_BUCKETS,
    ),
    removalDuration: histogram(
      registry,
      'flotilla_autoscaler_machine_removal_duration_seconds',
      'Time to remove a machine at its provider.',
      ['runner', 'provider'],
      DURATION_BUCKETS,
    ),
    waiting: gauge(
      registry,
      'flotilla_autoscaler_jobs_waiting_for_capacity',
      'Jobs waiting for a machine slot.',
      ['runner'],
    ),
    maxInstances: gauge(
      registry,
      'flotilla_autoscaler_max_instances',
      'The configured max_instances (0 = no limit).',
      ['runner'],
    ),
    operations: counter(
      registry,
      'flotilla_autoscaler_scale_operations_total',
      'Machine creations and removals, by result (create, create_failed, ready_failed, remove, remove_failed, lost).',
      ['runner', 'operation', 'result'],
    ),
    providerErrors: counter(
      registry,
      'flotilla_autoscaler_provider_errors_total',
      'Provider API errors by operation and kind (rate_limit, capacity, api, timeout).',
      ['runner', 'provider', 'operation', 'kind'],
    ),
    providerPaused: gauge(
      registry,
      'flotilla_autoscaler_provider_paused',
      '1 when the provider takes no new machines.',
      ['runner', 'provider'],
    ),
    cleaner: counter(
      registry,
      'flotilla_autoscaler_cleaner_machines_total',
      'Orphan and zero-id cleaner results (found, removed, errors).',
      ['runner', 'cleaner', 'result'],
    ),
    decisions: counter(
      registry,
      'flotilla_autoscaler_decisions_total',
      'Machines created or removed, by action (create, remove) and reason (waiting_jobs, idle_count, predicted_demand, idle_time, above_predicted_demand, surplus_booting, max_use_count, ready_failed, broken, lost, shutdown, adopted_busy).',
      ['runner', 'action', 'reason'],
    ),
  };
}

export type { Labels };
