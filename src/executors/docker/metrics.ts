/** Docker executor metrics, registered once per injected prom-client Registry. */
import type { Histogram, Registry } from 'prom-client';
import { registeredHistogram as histogram } from '../../shared/registered-metrics.js';

export interface DockerMetrics {
  pullDuration: Histogram<'result'>;
  containerStartDuration: Histogram<'type'>;
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
