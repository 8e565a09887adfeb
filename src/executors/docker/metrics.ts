/** Docker executor metrics, registered once per injected prom-client Registry. */
import { Histogram, type Registry } from 'prom-client';

export interface DockerMetrics {
  pullDuration: Histogram<'result'>;
  containerStartDuration: Histogram<'type'>;
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
): Histogram<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<L>;
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

export function dockerMetrics(registry: Registry): DockerMetrics {
  return {
    pullDuration: histogram(
      registry,
      'flotilla_docker_image_pull_duration_seconds',
      'Time to pull (or check) a job, service or helper image, by result.',
      ['result'],
      [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    ),
    containerStartDuration: histogram(
      registry,
      'flotilla_docker_container_start_duration_seconds',
      'Time from container create to started, by container type.',
      ['type'],
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    ),
  };
}
