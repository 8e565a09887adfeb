/**
 * DB timings without touching the SQL: a Proxy around a Store that times every method returning a
 * promise and observes `flotilla_coordinator_db_query_duration_seconds{operation}` (operation = the
 * method name, e.g. `claimJob`), failed calls included. Methods added to the port later are timed
 * too, with no change here. Synchronous members pass through untouched.
 */
import { Histogram, type Registry } from 'prom-client';

import type { Clock } from '../../shared/clock.js';
import type { Store } from './store.js';

export const DB_DURATION_METRIC = 'flotilla_coordinator_db_query_duration_seconds';

/** The histogram, registered once per registry. */
export function dbDurationHistogram(registry: Registry): Histogram<'operation'> {
  const existing = registry.getSingleMetric(DB_DURATION_METRIC);
  if (existing) return existing as Histogram<'operation'>;
  return new Histogram({
    name: DB_DURATION_METRIC,
    help: 'Store call durations (one call may run several SQL statements), by store operation',
    labelNames: ['operation'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** `store` with every async method timed on `registry`. */
export function timedStore(
  store: Store,
  registry: Registry,
  clock: Pick<Clock, 'monotonic'> = { monotonic: () => performance.now() },
): Store {
  const histogram = dbDurationHistogram(registry);
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      // The target as receiver: getters of the real store may read its private (#) fields.
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const cached = wrapped.get(property);
      if (cached) return cached;
      const method = value as (...args: unknown[]) => unknown;
      const timed = (...args: unknown[]): unknown => {
        const started = clock.monotonic();
        const result = method.apply(target, args);
        if (!isPromise(result)) return result;
        const observe = (): void =>
          histogram.observe({ operation: property }, (clock.monotonic() - started) / 1000);
        return result.finally(observe);
      };
      wrapped.set(property, timed);
      return timed;
    },
  });
}
