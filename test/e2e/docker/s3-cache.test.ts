/**
 * The distributed cache end to end: a job of runner A (shell executor, on this host) saves its
 * cache to a real S3 server process; a later job of runner B (docker executor, in containers)
 * restores it through the pre-signed URL its manager made, because both runners share the bucket
 * (`Shared = true`). Without Shared, runner B does not see A's cache. With the cache server down, a
 * job warns and succeeds. The S3 server listens on a test network's gateway address, which both
 * this host and the job containers reach.
 */
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';

import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { JobCacheSpec, JobPayload } from '../../../src/api/runner-api.js';
import { cacheConfigSchema, type CacheConfig } from '../../../src/executors/cache/cache-config.js';
import type { ExecutorRunnerInfo } from '../../../src/executors/executor.js';
import { createShellExecutorFactory } from '../../../src/executors/shell/shell-executor.js';
import {
  startS3Server,
  S3_ACCESS_KEY,
  S3_SECRET_KEY,
  type S3ServerProcess,
} from '../../helpers/s3-server.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { dockerEnv, dockerFactory, dockerPayload, jobObjects, runDockerJob } from './harness.js';

const NETWORK = 'flotilla-e2e-s3cache';
const GATEWAY = '10.81.0.1';
const BUCKET = 'runner-cache';
const projectId = 9000 + Math.floor(Math.random() * 900);
let docker: Docker;
let s3: S3ServerProcess;
let work: { dir: string; remove: () => Promise<void> };

/** A port of `host` that nothing listens on. */
async function closedPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  docker = dockerEnv();
  await docker
    .getNetwork(NETWORK)
    .remove()
    .catch(() => undefined);
  await docker.createNetwork({
    Name: NETWORK,
    IPAM: { Config: [{ Subnet: '10.81.0.0/24', Gateway: GATEWAY }] },
    Labels: { 'com.flotilla.e2e': 'true' },
  });
  s3 = await startS3Server(GATEWAY, [BUCKET]);
  work = await tempDir('flotilla-e2e-s3cache-');
});

afterAll(async () => {
  await s3?.stop();
  await docker
    ?.getVolume(`flotilla-e2edocker-project-${projectId}-cache`)
    .remove()
    .catch(() => undefined);
  await docker
    ?.getNetwork(NETWORK)
    .remove()
    .catch(() => undefined);
  await work?.remove();
});

function cacheConfig(shared: boolean, address = s3.address): CacheConfig {
  return cacheConfigSchema.parse({
    Type: 's3',
    Path: 'e2e',
    Shared: shared,
    s3: {
      ServerAddress: address,
      AccessKey: S3_ACCESS_KEY,
      SecretKey: S3_SECRET_KEY,
      BucketName: BUCKET,
      Insecure: true,
    },
  });
}

const spec = (key: string, policy: JobCacheSpec['policy']): JobCacheSpec => ({
  key,
  untracked: false,
  paths: ['vendor/'],
  policy,
  when: 'on_success',
  fallback_keys: [],
});

function payload(script: string[], cache: JobCacheSpec[]): JobPayload {
  const base = dockerPayload(script, { cache });
  return { ...base, job_info: { ...base.job_info, project_id: projectId } };
}

function runnerA(cache: CacheConfig): Partial<ExecutorRunnerInfo> {
  const dir = path.join(work.dir, 'runner-a');
  return {
    shortToken: 'runnerAA',
    buildsDir: path.join(dir, 'builds'),
    cacheDir: path.join(dir, 'cache'),
    cache,
  };
}

const runnerB = (cache: CacheConfig): Partial<ExecutorRunnerInfo> => ({ shortToken: 'runnerBB', cache });

describe('distributed cache over S3 across runners and machines', () => {
  it('restores in a docker job of runner B what a shell job of runner A saved, only when shared', async () => {
    const shell = createShellExecutorFactory();
    const saveScript = ['mkdir -p vendor', 'echo "built by A on $(hostname)" > vendor/dep.txt'];
    const saved = await runDockerJob(shell, payload(saveScript, [spec('deps-shared', 'pull-push')]), {
      runner: runnerA(cacheConfig(true)),
    });
    expect(saved.outcome.state, saved.log).toBe('success');
    expect(saved.log).toContain(
      `Uploading cache.zip to http://${s3.address}/${BUCKET}/e2e/project/${projectId}/deps-shared`,
    );
    expect(saved.log).not.toContain('X-Amz-Signature');

    const factory = dockerFactory({ pull_policy: 'if-not-present', network_mode: NETWORK });
    const restoreJob = payload(['cat vendor/dep.txt'], [spec('deps-shared', 'pull')]);
    const restored = await runDockerJob(factory, restoreJob, { runner: runnerB(cacheConfig(true)) });
    expect(restored.outcome.state, restored.log).toBe('success');
    expect(restored.log).toContain(
      `Downloading cache from http://${s3.address}/${BUCKET}/e2e/project/${projectId}/deps-shared`,
    );
    expect(restored.log).toContain('Successfully extracted cache');
    expect(restored.log).toMatch(/\nbuilt by A on \S+\n/);
    expect(await jobObjects(docker, restoreJob.id)).toEqual([]);

    const privateSave = await runDockerJob(shell, payload(saveScript, [spec('deps-private', 'push')]), {
      runner: runnerA(cacheConfig(false)),
    });
    expect(privateSave.log).toContain(`/e2e/runner/runnerAA/project/${projectId}/deps-private`);
    const unshared = await runDockerJob(
      factory,
      payload(
        ['test ! -e vendor/dep.txt && echo "no cache from another runner"'],
        [spec('deps-private', 'pull')],
      ),
      { runner: runnerB(cacheConfig(false)) },
    );
    expect(unshared.outcome.state, unshared.log).toBe('success');
    expect(unshared.log).toContain('deps-private: not found on the cache server');
    expect(unshared.log).toContain('\nno cache from another runner\n');
  });

  it('warns and succeeds when the cache server is down', async () => {
    const down = `${GATEWAY}:${await closedPort(GATEWAY)}`;
    const factory = dockerFactory({ pull_policy: 'if-not-present', network_mode: NETWORK });
    const run = await runDockerJob(
      factory,
      payload(['mkdir -p vendor', 'echo x > vendor/x', 'echo job ran'], [spec('offline', 'pull-push')]),
      { runner: runnerB(cacheConfig(true, down)) },
    );
    expect(run.outcome.state, run.log).toBe('success');
    expect(run.log).toContain('\njob ran\n');
    expect(run.log).toMatch(/WARNING: Failed to download cache offline from the cache server: ECONNREFUSED/);
    expect(run.log).toMatch(/WARNING: Failed to upload cache offline to the cache server: ECONNREFUSED/);
  });
});
