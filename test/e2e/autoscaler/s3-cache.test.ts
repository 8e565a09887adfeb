/**
 * The distributed cache across autoscaled machines: with max_use_count = 1 every job gets a fresh
 * `local` machine (its own network namespace and Docker Engine), so a cache saved by a job of
 * runner A on one machine and restored by a job of runner B on another can only have come through
 * the S3 server (a real process listening on the group's host address). `local` machines run their
 * Docker Engine without NAT: the jobs' per-job networks have no route to the host address, so every
 * machine forwards the S3 server's port from its own address (`forward_host_ports`), and the jobs
 * name the server `flotilla-cache`, which their `/etc/hosts` maps to the machine's address
 * (`extra_hosts = ["flotilla-cache:host-gateway"]`). The pre-signed URLs keep that name, so their
 * signed Host is what the server sees. Machines on real clouds reach their S3 server through NAT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Registry } from 'prom-client';

import type { JobCacheSpec, JobPayload } from '../../../src/api/runner-api.js';
import { createDockerAutoscalerExecutorFactory } from '../../../src/autoscaler/docker-autoscaler-executor.js';
import { cacheConfigSchema, type CacheConfig } from '../../../src/executors/cache/cache-config.js';
import {
  startS3Server,
  S3_ACCESS_KEY,
  S3_SECRET_KEY,
  type S3ServerProcess,
} from '../../helpers/s3-server.js';
import type { ExecutorFactory } from '../../../src/executors/executor.js';
import { freePort } from '../../helpers/free-port.js';
import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { dockerPayload, runDockerJob, VERSION } from '../docker/harness.js';
import {
  destroyGroup,
  hostAddress,
  namespaces,
  requireTools,
  startTestFleet,
  type TestFleet,
} from './harness.js';

const GROUP = 'e2es3';
const BUCKET = 'fleet-cache';
let t: TestFleet;
let s3: S3ServerProcess;
let factory: ExecutorFactory;
let port: number;

beforeAll(async () => {
  requireTools();
  port = await freePort();
  t = await startTestFleet({
    group: GROUP,
    autoscaler: { max_use_count: 1, max_instances: 2 },
    local: { forward_host_ports: [port] },
  });
  // the fleet has created the group's bridge: its host address now exists
  s3 = await startS3Server(hostAddress(GROUP), [BUCKET], port);
  factory = createDockerAutoscalerExecutorFactory({
    scaler: t.fleet.scaler,
    docker: {
      pull_policy: 'if-not-present',
      helper_image: `${hostAddress(GROUP)}:5000/flotilla-helper:${VERSION}`,
      extra_hosts: ['flotilla-cache:host-gateway'],
    },
    logger: silentLogger(),
    registry: new Registry(),
    clock: systemClock,
    version: VERSION,
  });
});

afterAll(async () => {
  await s3?.stop();
  await t?.fleet.stop({ deleteInstances: true }).catch(() => undefined);
  await destroyGroup(GROUP, t?.dir ?? '/nonexistent');
  expect(await namespaces(GROUP)).toEqual([]);
});

const cache: () => CacheConfig = () =>
  cacheConfigSchema.parse({
    Type: 's3',
    Shared: true,
    s3: {
      ServerAddress: `flotilla-cache:${port}`,
      AccessKey: S3_ACCESS_KEY,
      SecretKey: S3_SECRET_KEY,
      BucketName: BUCKET,
      Insecure: true,
    },
  });

const spec = (policy: JobCacheSpec['policy']): JobCacheSpec => ({
  key: 'fleet-deps',
  untracked: false,
  paths: ['vendor/'],
  policy,
  when: 'on_success',
  fallback_keys: [],
});

function payload(script: string[], policy: JobCacheSpec['policy']): JobPayload {
  const base = dockerPayload(script, { cache: [spec(policy)] });
  return { ...base, job_info: { ...base.job_info, project_id: 4242 } };
}

const machineOf = (log: string): string => /Running on machine (\S+)/.exec(log)?.[1] ?? '';

describe('docker-autoscaler: the S3 cache across machines and runners', () => {
  it('restores on a second machine, for a second runner, the cache a job saved on the first', async () => {
    const [s3Host] = s3.address.split(':');
    const save = await runDockerJob(
      factory,
      payload(
        [
          'mkdir -p vendor',
          'echo "saved on $(hostname)" > vendor/dep.txt',
          'grep flotilla-cache /etc/hosts',
          // the job's own network has no route to the host address: only the machine's forwarder
          `nc -z -w 3 ${s3Host} ${port} && echo "direct: reached" || echo "direct: no route"`,
        ],
        'push',
      ),
      { runner: { shortToken: 'fleetAAA', cache: cache() } },
    );
    expect(save.outcome.state, save.log).toBe('success');
    expect(save.log).toContain('on the cache server');
    expect(save.log).toMatch(/\n10\.231\.\d+\.\d+\s+flotilla-cache\n/);
    expect(save.log).toContain('direct: no route');

    const restore = await runDockerJob(factory, payload(['cat vendor/dep.txt'], 'pull'), {
      runner: { shortToken: 'fleetBBB', cache: cache() },
    });
    expect(restore.outcome.state, restore.log).toBe('success');
    expect(restore.log).toContain(
      `Downloading cache from http://flotilla-cache:${port}/${BUCKET}/project/4242/fleet-deps`,
    );
    expect(restore.log).toMatch(/\nsaved on \S+\n/);
    expect(machineOf(save.log)).toMatch(/^flotilla-e2es3-\d+$/);
    expect(machineOf(restore.log)).toMatch(/^flotilla-e2es3-\d+$/);
    // a fresh machine per job (max_use_count = 1): the first one is gone, and its number may be
    // reused by the second, so count the creations rather than compare names
    const created =
      /flotilla_autoscaler_scale_operations_total\{runner="e2es3",operation="create",result="success"\} (\d+)/.exec(
        await t.registry.metrics(),
      );
    expect(Number(created?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
  });
});
