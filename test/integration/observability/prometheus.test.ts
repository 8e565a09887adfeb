/**
 * One real Prometheus finds the fleet through the coordinator's HTTP service discovery: a
 * coordinator and a runner manager (in this process, on loopback) become `up` targets with the
 * deploy config's relabeling, their metrics are queryable, and FlotillaRunnerManagerDown (the deploy
 * rule, with a short `for:`) fires once the manager stops. Needs Debian's `prometheus`
 * (deploy/prometheus/test-env.sh); never skipped.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

import { startTestCoordinator, type TestCoordinator } from '../../../harness/in-process-coordinator.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { ROOT, startTestManager, until, type TestManager } from './helpers.js';
import { startPrometheus, type PrometheusProcess } from './prometheus-process.js';

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}

interface Alert {
  labels: Record<string, string>;
  state: string;
}

interface Rule {
  alert?: string;
  for?: string;
}

/** The deploy scrape config, pointed at this coordinator, with test-speed intervals. */
async function prometheusConfig(coordinatorUrl: string): Promise<string> {
  const deploy = parse(await readFile(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    scrape_configs: { http_sd_configs: { url: string; refresh_interval?: string }[] }[];
  };
  const scrape = deploy.scrape_configs[0];
  if (!scrape) throw new Error('deploy/prometheus/prometheus.yml has no scrape config');
  for (const sd of scrape.http_sd_configs) {
    sd.url = `${coordinatorUrl}/-/discovery/targets`;
    sd.refresh_interval = '1s';
  }
  return stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
    rule_files: ['alerts.yml'],
    scrape_configs: [scrape],
  });
}

/** The deploy alert rules with `for:` shortened, so the test waits seconds instead of minutes. */
async function fastAlerts(): Promise<string> {
  const rules = parse(await readFile(path.join(ROOT, 'deploy/prometheus/rules/alerts.yml'), 'utf8')) as {
    groups: { rules: Rule[] }[];
  };
  for (const group of rules.groups) for (const rule of group.rules) if (rule.for) rule.for = '2s';
  return stringify(rules);
}

describe('Prometheus scraping the fleet through HTTP service discovery', () => {
  let coordinator: TestCoordinator;
  let manager: TestManager;
  let prometheus: PrometheusProcess | undefined;
  let removeDir: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    const tmp = await tempDir('flotilla-prometheus-');
    dir = tmp.dir;
    removeDir = tmp.remove;
    coordinator = await startTestCoordinator();
    const runner = await coordinator.api.createRunner({ description: 'scraped' });
    manager = await startTestManager({
      url: coordinator.running.url,
      token: runner.token,
      buildsDir: path.join(dir, 'builds'),
    });
    await until('the coordinator to list the manager', async () => {
      const groups = (await (await fetch(`${coordinator.running.url}/-/discovery/targets`)).json()) as {
        targets: string[];
      }[];
      return groups.some((g) => g.targets.includes(manager.address)) ? true : undefined;
    });
    prometheus = await startPrometheus(dir, await prometheusConfig(coordinator.running.url), {
      'alerts.yml': await fastAlerts(),
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await manager?.stop();
    await coordinator?.stop();
    await removeDir?.();
  });

  async function targets(): Promise<Target[]> {
    const data = await prometheus!.api<{ activeTargets: Target[] }>('/api/v1/targets?state=active');
    return data.activeTargets;
  }

  it('finds the coordinator and the manager and scrapes both', async () => {
    const up = await until('both targets to be up', async () => {
      const list = await targets();
      const byJob = (job: string): Target | undefined =>
        list.find((t) => t.labels['job'] === job && t.health === 'up');
      const pair = [byJob('coordinator'), byJob('runner-manager')];
      return pair.every((t) => t !== undefined) ? pair : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}\nprometheus output:\n${prometheus?.output() ?? ''}`);
    });
    expect(up[1]?.labels['instance']).toBe(manager.address);
    const concurrent = await until('gitlab_runner_concurrent to be queryable', async () => {
      const data = await prometheus!.api<{
        result: { metric: Record<string, string>; value: [number, string] }[];
      }>('/api/v1/query?query=gitlab_runner_concurrent');
      return data.result[0];
    });
    expect(concurrent.metric['job']).toBe('runner-manager');
    expect(concurrent.value[1]).toBe('2');
  });

  it('fires FlotillaRunnerManagerDown once the manager stops', async () => {
    await manager.stop(true);
    const alert = await until('FlotillaRunnerManagerDown to fire', async () => {
      const data = await prometheus!.api<{ alerts: Alert[] }>('/api/v1/alerts');
      return data.alerts.find(
        (a) => a.labels['alertname'] === 'FlotillaRunnerManagerDown' && a.state === 'firing',
      );
    });
    expect(alert.labels['instance']).toBe(manager.address);
    expect(alert.labels['severity']).toBe('critical');
  });
});
