/**
 * docs/metrics.md is the metrics contract: every name the coordinator and the runner manager
 * export (read from their real /metrics over HTTP) and every name the docker executor, the
 * autoscaler and the provider exporter register is documented with its type and labels, and every
 * documented name exists.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { InstanceGroup } from '../../../src/autoscaler/providers/provider.js';
import { createProviderExporter } from '../../../src/autoscaler/exporter.js';
import { autoscalerMetrics } from '../../../src/autoscaler/metrics.js';
import { createCoordinatorMetrics, createQueueMetrics } from '../../../src/coordinator/metrics.js';
import { dockerMetrics } from '../../../src/executors/docker/metrics.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { startTestCoordinator, type TestCoordinator } from '../../../harness/in-process-coordinator.js';
import { tempDir } from '../../../harness/temp-dir.js';
import {
  documentedMetrics,
  exposedTypes,
  startTestManager,
  type DocumentedMetric,
  type TestManager,
} from './helpers.js';

interface Exported {
  type: string;
  labels: string[] | undefined;
}

function defaultNames(prefix: string): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

function typeOf(metric: object): string {
  return metric.constructor.name.toLowerCase();
}

/** Names, types and label names registered on a registry (prom-client keeps labelNames). */
function registered(registry: Registry): Map<string, Exported> {
  const out = new Map<string, Exported>();
  for (const metric of registry.getMetricsAsArray()) {
    const labels = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
    out.set(metric.name, { type: typeOf(metric), labels: [...labels] });
  }
  return out;
}

function componentRegistries(): Registry {
  const registry = new Registry();
  createCoordinatorMetrics(registry);
  createQueueMetrics(registry, {
    countJobs: async () => 0,
    oldestPendingAgeSeconds: async () => 0,
    runnerManagers: () => 0,
    queueDepth: async () => ({ instance_type: 0, group_type: 0, project_type: 0 }),
  });
  dockerMetrics(registry);
  autoscalerMetrics(registry);
  createProviderExporter({
    runner: 'r',
    group: {} as InstanceGroup,
    registry,
    clock: systemClock,
    logger: silentLogger(),
  });
  return registry;
}

describe('docs/metrics.md', () => {
  let coordinator: TestCoordinator;
  let manager: TestManager;
  let removeDir: () => Promise<void>;
  const exported = new Map<string, Exported>();
  let documented: DocumentedMetric[];

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
    const runner = await coordinator.api.createRunner({ description: 'metrics-doc' });
    const tmp = await tempDir('flotilla-metrics-doc-');
    removeDir = tmp.remove;
    manager = await startTestManager({
      url: coordinator.running.url,
      token: runner.token,
      buildsDir: tmp.dir,
    });
    const skip = new Set([...defaultNames('flotilla_coordinator_'), ...defaultNames('')]);
    for (const url of [`${coordinator.running.url}/metrics`, `http://${manager.address}/metrics`]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      for (const [name, type] of exposedTypes(await res.text()))
        if (!skip.has(name)) exported.set(name, { type, labels: undefined });
    }
    for (const registry of [componentRegistries(), manager.registry]) {
      for (const [name, metric] of registered(registry)) if (!skip.has(name)) exported.set(name, metric);
    }
    documented = await documentedMetrics();
  });

  afterAll(async () => {
    await manager?.stop();
    await coordinator?.stop();
    await removeDir?.();
  });

  it('documents every exported metric with its type and labels', () => {
    const docs = new Map(documented.map((d) => [d.name, d]));
    const missing = [...exported.keys()].filter((name) => !docs.has(name));
    expect(missing, 'exported but not in docs/metrics.md').toEqual([]);
    for (const [name, metric] of exported) {
      const doc = docs.get(name);
      expect(doc?.type, `type of ${name}`).toBe(metric.type);
      if (metric.labels)
        expect([...(doc?.labels ?? [])].sort(), `labels of ${name}`).toEqual([...metric.labels].sort());
    }
  });

  it('lists no metric that nothing exports, and each once', () => {
    const names = documented.map((d) => d.name);
    expect(
      names.filter((n) => !exported.has(n)),
      'documented but not exported',
    ).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('has the gitlab-runner names a runner manager must export', () => {
    for (const name of [
      'gitlab_runner_jobs',
      'gitlab_runner_concurrent',
      'gitlab_runner_limit',
      'gitlab_runner_errors_total',
      'gitlab_runner_api_request_statuses_total',
      'gitlab_runner_job_duration_seconds',
      'gitlab_runner_job_queue_duration_seconds',
      'gitlab_runner_job_stage_duration_seconds',
      'gitlab_runner_version_info',
    ]) {
      expect(exported.has(name), name).toBe(true);
    }
  });
});
