/**
 * Autoscaled machines in service discovery, for real: a runner manager built as `flotilla runner
 * run` builds it (docker-autoscaler, `local` provider with `node_exporter = true`, one idle machine
 * kept) lists the machine's node exporter on its `/-/discovery/targets`; a real Prometheus with the
 * deploy config's `flotilla-machines` job discovers it there and scrapes it (`up`), with the
 * provider, runner and instance_id labels; the coordinator's list (one URL for the whole fleet)
 * carries the machine too. An exporter that dies is started again (adopted machine),
 * and removing the machine stops it. Needs root, network namespaces, dockerd, Debian's
 * `prometheus-node-exporter` (scripts/netns-env.sh) and `prometheus` (deploy/prometheus/test-env.sh);
 * never skipped.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

import { listNamespaces } from '../../../src/autoscaler/providers/local/netns.js';
import { createConfiguredManager, type RunnerExecutors } from '../../../src/cli/executors.js';
import { loadConfigFile } from '../../../src/runner/config/load.js';
import type { RunnerManager } from '../../../src/runner/manager.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { destroyGroup, RUN_DIR, subnetFor } from '../../e2e/autoscaler/harness.js';
import { startTestCoordinator, type TestCoordinator } from '../../../harness/in-process-coordinator.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { ROOT, until } from './helpers.js';
import { startPrometheus, type PrometheusProcess } from './prometheus-process.js';

const GROUP = 'obsne';

interface Target {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  scrapeUrl: string;
  health: string;
}

interface SdGroup {
  targets: string[];
  labels: Record<string, string>;
}

function requireEnvironment(): void {
  try {
    execFileSync('bash', ['scripts/netns-env.sh'], { cwd: ROOT, stdio: 'pipe', timeout: 900_000 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(
      `scripts/netns-env.sh failed: network namespaces, dockerd and prometheus-node-exporter are required.\n${e.message}\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`,
    );
  }
}

function runnerToml(url: string, token: string, dir: string): string {
  return `concurrent = 1
check_interval = 1
listen_address = "127.0.0.1:0"

[[runners]]
  name = "${GROUP}"
  url = "${url}"
  token = "${token}"
  executor = "docker-autoscaler"
  [runners.docker]
    image = "busybox:latest"
  [runners.autoscaler]
    plugin = "local"
    capacity_per_instance = 1
    max_instances = 1
    update_interval = "2s"
    update_interval_when_expecting = "1s"
    instance_ready_timeout = "90s"
    deletion_retry_interval = "2s"
    delete_instances_on_shutdown = true
    [runners.autoscaler.plugin_config]
      name = "${GROUP}"
      subnet = "${subnetFor(GROUP)}"
      state_dir = "${path.join(dir, 'machines')}"
      run_dir = "${RUN_DIR}"
      node_exporter = true
    [[runners.autoscaler.policy]]
      idle_count = 1
      idle_time = "10m"
`;
}

/** The deploy config's machines job, pointed at this manager, with test-speed intervals. */
async function prometheusConfig(managerAddress: string): Promise<string> {
  const deploy = parse(await readFile(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    scrape_configs: { job_name: string; http_sd_configs: { url: string; refresh_interval?: string }[] }[];
  };
  const scrape = deploy.scrape_configs.find((s) => s.job_name === 'flotilla-machines');
  if (!scrape) throw new Error('deploy/prometheus/prometheus.yml has no flotilla-machines job');
  for (const sd of scrape.http_sd_configs) {
    sd.url = `http://${managerAddress}/-/discovery/targets`;
    sd.refresh_interval = '1s';
  }
  return stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
    scrape_configs: [scrape],
  });
}

/** Pids of node exporters listening on `address`. */
async function exporterPids(address: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith('prometheus-node-exporter') && cmdline.includes(`=${address}:`))
      pids.push(Number(entry));
  }
  return pids;
}

describe('autoscaled machines in service discovery', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let coordinator: TestCoordinator;
  let manager: RunnerManager | undefined;
  let executors: RunnerExecutors | undefined;
  let prometheus: PrometheusProcess | undefined;
  let machineTarget = '';

  beforeAll(async () => {
    requireEnvironment();
    tmp = await tempDir('flotilla-machine-sd-');
    coordinator = await startTestCoordinator();
    const runner = await coordinator.api.createRunner({ description: 'machines' });
    const configPath = path.join(tmp.dir, 'config.toml');
    await writeFile(configPath, runnerToml(coordinator.running.url, runner.token, tmp.dir));
    const { config } = await loadConfigFile(configPath);
    ({ manager, executors } = await createConfiguredManager(config, configPath, silentLogger()));
    await manager.start();
  }, 900_000);

  afterAll(async () => {
    await prometheus?.stop();
    await manager?.stop({ graceful: false });
    await executors?.stopFleets();
    await coordinator?.stop();
    if (tmp) await destroyGroup(GROUP, tmp.dir);
    await tmp?.remove();
  }, 300_000);

  it("lists the idle machine's node exporter next to the manager", async () => {
    const address = manager?.statusAddress;
    if (!address) throw new Error('the status server did not start');
    const groups = await until(
      'the manager to list a machine',
      async () => {
        const res = await fetch(`http://${address}/-/discovery/targets`);
        const list = (await res.json()) as SdGroup[];
        return list.some((g) => g.labels['__meta_flotilla_component'] === 'machine') ? list : undefined;
      },
      600,
    );
    expect(groups[0]?.labels['__meta_flotilla_component']).toBe('runner-manager');
    const machine = groups.find((g) => g.labels['__meta_flotilla_component'] === 'machine');
    const [ns] = await listNamespaces(`flotilla-${GROUP}-`);
    const n = ns?.slice(`flotilla-${GROUP}-`.length);
    const host = subnetFor(GROUP).replace(/\.0\/24$/, `.${n}`);
    expect(machine?.targets).toEqual([`${host}:9100`]);
    expect(machine?.labels).toMatchObject({
      __meta_flotilla_provider: 'local',
      __meta_flotilla_runner_name: GROUP,
      __meta_flotilla_instance_id: ns,
    });
    expect(machine?.labels['__meta_flotilla_runner']).toMatch(/^[A-Za-z0-9_-]{9}$/);
    expect(['creating', 'idle']).toContain(machine?.labels['__meta_flotilla_state']);
    machineTarget = `${host}:9100`;
    const fromCoordinator = await until(
      "the coordinator to list the manager's machine",
      async () => {
        const res = await fetch(`${coordinator.running.url}/-/discovery/targets`);
        const list = (await res.json()) as SdGroup[];
        return list.find((g) => g.labels['__meta_flotilla_component'] === 'machine');
      },
      600,
    );
    expect(fromCoordinator.targets).toEqual([machineTarget]);
    expect(fromCoordinator.labels['__meta_flotilla_instance_id']).toBe(ns);
  }, 300_000);

  it("Prometheus discovers the machine through the manager's list and scrapes its exporter", async () => {
    const address = manager?.statusAddress ?? '';
    prometheus = await startPrometheus(tmp.dir, await prometheusConfig(address), {});
    const target = await until('the machine target to be up', async () => {
      const data = await prometheus!.api<{ activeTargets: Target[] }>('/api/v1/targets?state=active');
      return data.activeTargets.find((t) => t.labels['instance'] === machineTarget && t.health === 'up');
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}\nprometheus output:\n${prometheus?.output() ?? ''}`);
    });
    expect(target.labels).toMatchObject({ job: 'machine', provider: 'local' });
    expect(target.labels['instance_id']).toMatch(new RegExp(`^flotilla-${GROUP}-\\d+$`));
    expect(target.labels['runner']).toMatch(/^[A-Za-z0-9_-]{9}$/);
    expect(target.labels['state']).toBeUndefined();
    const info = await until('node_exporter_build_info of the machine', async () => {
      const data = await prometheus!.api<{ result: { metric: Record<string, string> }[] }>(
        `/api/v1/query?query=${encodeURIComponent(`node_exporter_build_info{instance="${machineTarget}"}`)}`,
      );
      return data.result[0];
    });
    expect(info.metric['job']).toBe('machine');
  }, 300_000);

  it('starts a dead exporter again and stops it with the machine', async () => {
    const host = machineTarget.split(':')[0] ?? '';
    const [first] = await exporterPids(host);
    if (first === undefined) throw new Error(`no node exporter listens on ${host}`);
    process.kill(first, 'SIGKILL');
    const restarted = await until('the exporter to be started again', async () => {
      const pids = (await exporterPids(host)).filter((p) => p !== first);
      return pids.length > 0 ? pids : undefined;
    });
    expect(restarted).toHaveLength(1);
    await manager?.stop({ graceful: false });
    await executors?.stopFleets();
    executors = undefined;
    expect(await listNamespaces(`flotilla-${GROUP}-`)).toEqual([]);
    expect(await exporterPids(host)).toEqual([]);
  }, 300_000);
});
