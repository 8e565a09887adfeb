import type Docker from 'dockerode';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { JobPayload } from '../../../src/api/runner-api.js';
import {
  createDockerExecutorFactory,
  type DockerExecutorFactory,
} from '../../../src/executors/docker/docker-executor-factory.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { dockerEnv, dockerPayload, jobObjects, runDockerJob, VERSION } from './harness.js';

let docker: Docker;
beforeAll(() => {
  docker = dockerEnv();
});

const factories: DockerExecutorFactory[] = [];
afterEach(async () => {
  await Promise.all(factories.splice(0).map((f) => f.close()));
});

function spareFactory(
  config: Record<string, unknown> = {},
  registry = new Registry(),
): DockerExecutorFactory {
  const factory = createDockerExecutorFactory({
    config: { pull_policy: 'if-not-present', ...config },
    registry,
    env: {},
    logger: silentLogger(),
    clock: systemClock,
    version: VERSION,
    spareHelpers: true,
  });
  factories.push(factory);
  return factory;
}

function inProject(payload: JobPayload, projectId: number): JobPayload {
  return { ...payload, job_info: { ...payload.job_info, project_id: projectId } };
}

interface SpareSeen {
  label: string;
  project: string;
  objects: string[];
}

/** The spares of runner `short`, by their `spare-<hex>` label, with what each one has on the engine. */
async function spares(short: string): Promise<SpareSeen[]> {
  const filters = JSON.stringify({ label: ['com.flotilla.managed=true', `com.flotilla.runner=${short}`] });
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  const { Volumes } = await docker.listVolumes({ filters });
  const all = [
    ...containers.map((c) => ({ labels: c.Labels, what: `container ${c.State}` })),
    ...networks.map((n) => ({ labels: n.Labels ?? {}, what: 'network' })),
    ...(Volumes ?? []).map((v) => ({ labels: v.Labels ?? {}, what: 'volume' })),
  ];
  const byLabel = new Map<string, SpareSeen>();
  for (const { labels, what } of all) {
    const label = labels['com.flotilla.job.id'] ?? '';
    if (!label.startsWith('spare-')) continue;
    const seen = byLabel.get(label) ?? {
      label,
      project: labels['com.flotilla.project.id'] ?? '',
      objects: [],
    };
    seen.objects.push(what);
    byLabel.set(label, seen);
  }
  return [...byLabel.values()].map((s) => ({ ...s, objects: s.objects.sort() }));
}

const WHOLE_SPARE = ['container running', 'network', 'volume'];

/** Waits until runner `short` has exactly one spare, of `project`, with `objects`; returns it. */
async function oneSpare(short: string, project: string, objects = WHOLE_SPARE): Promise<SpareSeen> {
  await expect
    .poll(async () => spares(short), { timeout: 30_000 })
    .toEqual([expect.objectContaining({ project, objects })]);
  const [spare] = await spares(short);
  return spare!;
}

describe('docker executor: spare helpers', () => {
  it('hands the next job of the project a fresh helper made ahead, and removes it with that job', async () => {
    const short = `spare${Date.now().toString(36)}`;
    const registry = new Registry();
    const factory = spareFactory({}, registry);
    const runner = { shortToken: short };
    const first = inProject(dockerPayload(['echo secret > /builds/left-by-first', 'echo first done']), 41);
    const one = await runDockerJob(factory, first, { runner });
    expect(one.outcome.state, one.log).toBe('success');
    expect(await jobObjects(docker, first.id)).toEqual([]);
    const made = await oneSpare(short, '41');

    const second = inProject(
      dockerPayload(['test ! -e /builds/left-by-first && echo "builds volume is fresh"']),
      41,
    );
    const two = await runDockerJob(factory, second, { runner });
    expect(two.outcome.state, two.log).toBe('success');
    expect(two.log).toContain('builds volume is fresh');
    expect(await jobObjects(docker, second.id)).toEqual([]);
    // The second job started no helper of its own: only the first job's was started.
    expect(await registry.metrics()).toContain(
      'flotilla_docker_container_start_duration_seconds_count{type="helper"} 1',
    );
    // The spare the second job took is gone with it; the next one is another, whole.
    const next = await oneSpare(short, '41');
    expect(next.label).not.toBe(made.label);

    await factory.close();
    expect(await spares(short)).toEqual([]);
  });

  it('leaves the spare to its project: a job of another project makes its own helper, then replaces the spare', async () => {
    const short = `spare${Date.now().toString(36)}b`;
    const factory = spareFactory();
    const runner = { shortToken: short };
    const first = await runDockerJob(factory, inProject(dockerPayload(['true']), 51), { runner });
    expect(first.outcome.state, first.log).toBe('success');
    const of51 = await oneSpare(short, '51');

    const registry = new Registry();
    const other = createDockerExecutorFactory({
      config: { pull_policy: 'if-not-present' },
      registry,
      env: {},
      logger: silentLogger(),
      clock: systemClock,
      version: VERSION,
    });
    // A factory without spares, same runner: it neither takes nor makes one.
    const plain = await runDockerJob(other, inProject(dockerPayload(['true']), 51), { runner });
    expect(plain.outcome.state, plain.log).toBe('success');
    expect(await registry.metrics()).toContain(
      'flotilla_docker_container_start_duration_seconds_count{type="helper"} 1',
    );
    expect((await spares(short)).map((s) => s.label)).toEqual([of51.label]);

    const payload = inProject(dockerPayload(['true']), 52);
    const run = await runDockerJob(factory, payload, { runner });
    expect(run.outcome.state, run.log).toBe('success');
    expect(await jobObjects(docker, payload.id)).toEqual([]);
    // One spare per factory: project 52's replaced project 51's.
    await oneSpare(short, '52');
  });

  it('with network_mode, a spare has no network of its own and jobs run on the configured one', async () => {
    const short = `spare${Date.now().toString(36)}n`;
    const network = `flotilla-spare-test-${Date.now().toString(36)}`;
    await docker.createNetwork({ Name: network, Labels: { 'com.flotilla.test': 'true' } });
    try {
      const factory = spareFactory({ network_mode: network });
      const runner = { shortToken: short };
      for (const n of [1, 2]) {
        const payload = inProject(dockerPayload([`echo run ${n}`]), 61);
        const run = await runDockerJob(factory, payload, { runner });
        expect(run.outcome.state, run.log).toBe('success');
        expect(await jobObjects(docker, payload.id)).toEqual([]);
        await oneSpare(short, '61', ['container running', 'volume']);
      }
      await factory.close();
      expect(await spares(short)).toEqual([]);
    } finally {
      await docker.getNetwork(network).remove();
    }
  });
});
