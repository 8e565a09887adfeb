/**
 * prom-client metrics registered once per injected Registry: a second caller with the same
 * registry gets the metric the first one registered.
 */
import { Histogram, type Registry } from 'prom-client';

/** The metric named `name` in `registry`, made (and registered by `make`) when it is not there yet. */
export function registeredOnce<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** A histogram registered once in `registry`. */
export function registeredHistogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
): Histogram<L> {
  return registeredOnce(
    registry,
    name,
    () => new Histogram({ name, help, labelNames, buckets, registers: [registry] }),
  );
}
