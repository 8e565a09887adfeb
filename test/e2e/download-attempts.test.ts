/**
 * ARTIFACT_DOWNLOAD_ATTEMPTS and RESTORE_CACHE_ATTEMPTS with real processes (a coordinator, shell
 * runner processes, an S3 cache server): an HTTP proxy drops the next request that matches (its
 * connection closed unanswered, as a flaky network or a load balancer would).
 * - Artifacts: the runner reaches the coordinator through the proxy; a dependent job's download of
 *   its dependency's artifacts is dropped once. With ARTIFACT_DOWNLOAD_ATTEMPTS=2 the stage runs
 *   again and the job succeeds with the file; with the default the job fails.
 * - Cache: two runners share an S3 cache through the proxy (a job on the second runner has no
 *   local copy); the consumer's cache download is dropped once. With RESTORE_CACHE_ATTEMPTS=2 the
 *   stage runs again and restores the cache; with the default the job warns and goes on without
 *   it, as GitLab does (a cache never fails a job).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Fleet } from '../helpers/fleet.js';
import { freePort } from '../helpers/free-port.js';
import { startRequestFaultProxy, type RequestFaultProxy } from '../helpers/request-fault-proxy.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startS3Server, type S3ServerProcess } from '../helpers/s3-server.js';

const ARTIFACTS_GET = /^GET \/api\/v4\/jobs\/\d+\/artifacts/;
const CACHE_GET = /^GET \/runner-cache\//;

let fleet: Fleet;
let coordinatorProxy: RequestFaultProxy;
let s3: S3ServerProcess;
let cacheProxy: RequestFaultProxy;

function s3CacheToml(address: string): string {
  return [
    '  [runners.cache]',
    '    Type = "s3"',
    '    Shared = true',
    '    [runners.cache.s3]',
    `      ServerAddress = "${address}"`,
    `      AccessKey = "${S3_ACCESS_KEY}"`,
    `      SecretKey = "${S3_SECRET_KEY}"`,
    '      BucketName = "runner-cache"',
    '      Insecure = true',
  ].join('\n');
}

beforeAll(async () => {
  const port = await freePort();
  fleet = await Fleet.start(['--listen', `127.0.0.1:${port}`]);
  coordinatorProxy = await startRequestFaultProxy({ host: '127.0.0.1', port });
  s3 = await startS3Server();
  const [s3Host, s3Port] = s3.address.split(':');
  cacheProxy = await startRequestFaultProxy({ host: s3Host ?? '127.0.0.1', port: Number(s3Port) });
  await fleet.addRunner({ tags: ['artifacts-through-proxy'], concurrent: 2, url: coordinatorProxy.url });
  for (const tag of ['cache-producer', 'cache-consumer'])
    await fleet.addRunner({ tags: [tag], concurrent: 1, extraRunner: s3CacheToml(cacheProxy.address) });
});

afterAll(async () => {
  await fleet?.stop();
  await coordinatorProxy?.close();
  await cacheProxy?.close();
  await s3?.stop();
});

function yamlVariables(variables: Record<string, string>): string {
  const lines = Object.entries(variables).map(([k, v]) => `    ${k}: "${v}"`);
  return lines.length > 0 ? `  variables:\n${lines.join('\n')}\n` : '';
}

function artifactsPipeline(variables: Record<string, string>): Record<string, string> {
  return {
    '.gitlab-ci.yml': `stages: [build, test]
make:
  stage: build
  tags: [artifacts-through-proxy]
  script: [echo made-by-make > made.txt]
  artifacts:
    paths: [made.txt]
use:
  stage: test
  tags: [artifacts-through-proxy]
${yamlVariables(variables)}  script: [cat made.txt]
`,
  };
}

function cachePipeline(key: string, variables: Record<string, string>): Record<string, string> {
  return {
    '.gitlab-ci.yml': `stages: [build, test]
fill:
  stage: build
  tags: [cache-producer]
  cache: { key: ${key}, paths: [vendor/], policy: push }
  script: [mkdir -p vendor, echo cached-by-fill > vendor/dep.txt]
read:
  stage: test
  tags: [cache-consumer]
  cache: { key: ${key}, paths: [vendor/], policy: pull }
${yamlVariables(variables)}  script: ['cat vendor/dep.txt || echo no-cache-here']
`,
  };
}

const ENDED = ['success', 'failed', 'canceled'];

/**
 * Arms the proxy to drop the next request matching `pattern` (the first job makes none: it uploads,
 * or its cache policy is push), pushes the pipeline and returns the second job with its log.
 */
async function runWithOneDrop(
  files: Record<string, string>,
  jobs: [first: string, second: string],
  proxy: RequestFaultProxy,
  pattern: RegExp,
) {
  const before = proxy.matched.dropped;
  proxy.drop(pattern, 1);
  const { projectId, pipelineId } = await fleet.pushPipeline(files);
  const first = await fleet.waitForJob(projectId, pipelineId, jobs[0], ENDED);
  expect(first.status, await fleet.trace(projectId, first.id)).toBe('success');
  const job = await fleet.waitForJob(projectId, pipelineId, jobs[1], ENDED);
  const log = await fleet.trace(projectId, job.id);
  proxy.drop(pattern, 0);
  return { job, log, dropped: proxy.matched.dropped - before };
}

describe('ARTIFACT_DOWNLOAD_ATTEMPTS through a proxy dropping the download', () => {
  it('downloads again and succeeds with ARTIFACT_DOWNLOAD_ATTEMPTS=2', async () => {
    const { job, log, dropped } = await runWithOneDrop(
      artifactsPipeline({ ARTIFACT_DOWNLOAD_ATTEMPTS: '2' }),
      ['make', 'use'],
      coordinatorProxy,
      ARTIFACTS_GET,
    );
    expect(job.status, `${log}\n${fleet.output()}`).toBe('success');
    expect(dropped).toBe(1);
    expect(log).toMatch(/ERROR: Downloading artifacts for make \(\d+\) failed: /);
    expect(log).toContain('WARNING: Downloading artifacts failed (attempt 1 of 2): exit code 1');
    expect(log).toContain('Retrying download_artifacts (attempt 2 of 2)...');
    expect(log).toMatch(/Downloading artifacts from coordinator\.\.\. ok/);
    expect(log).toMatch(/^made-by-make$/m);
  });

  it('fails the job with the default of one attempt', async () => {
    const { job, log, dropped } = await runWithOneDrop(
      artifactsPipeline({}),
      ['make', 'use'],
      coordinatorProxy,
      ARTIFACTS_GET,
    );
    expect(job.status, log).toBe('failed');
    expect(dropped).toBe(1);
    expect(log).toMatch(/ERROR: Downloading artifacts for make \(\d+\) failed: /);
    expect(log).not.toContain('Retrying');
    expect(log).toContain('ERROR: Job failed: exit code 1');
    expect(log).not.toMatch(/^made-by-make$/m);
  });
});

describe('RESTORE_CACHE_ATTEMPTS through a proxy dropping the cache download', () => {
  it('downloads again and restores the cache with RESTORE_CACHE_ATTEMPTS=2', async () => {
    const { job, log, dropped } = await runWithOneDrop(
      cachePipeline('retried', { RESTORE_CACHE_ATTEMPTS: '2' }),
      ['fill', 'read'],
      cacheProxy,
      CACHE_GET,
    );
    expect(job.status, `${log}\n${fleet.output()}`).toBe('success');
    expect(dropped).toBe(1);
    expect(log).toMatch(
      /WARNING: Failed to download cache retried-protected from the cache server: UND_ERR_SOCKET/,
    );
    expect(log).toContain('WARNING: Restoring cache failed (attempt 1 of 2): exit code 1');
    expect(log).toContain('Retrying restore_cache (attempt 2 of 2)...');
    expect(log).toContain('Successfully extracted cache');
    expect(log).toMatch(/^cached-by-fill$/m);
  });

  it('warns and goes on without the cache with the default of one attempt', async () => {
    const { job, log, dropped } = await runWithOneDrop(
      cachePipeline('once', {}),
      ['fill', 'read'],
      cacheProxy,
      CACHE_GET,
    );
    expect(job.status, `${log}\n${fleet.output()}`).toBe('success');
    expect(dropped).toBe(1);
    expect(log).toMatch(
      /WARNING: Failed to download cache once-protected from the cache server: UND_ERR_SOCKET/,
    );
    expect(log).toContain('WARNING: Restoring cache failed: exit code 1; the job goes on without the cache');
    expect(log).not.toContain('Retrying');
    expect(log).not.toContain('Successfully extracted cache');
    expect(log).toMatch(/^no-cache-here$/m);
  });
});
