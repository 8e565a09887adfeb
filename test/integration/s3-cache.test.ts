/**
 * The distributed cache against a real S3 server process (test/helpers/s3-server.ts) with the real
 * AWS SDK: the server verifies Signature V4, so these tests also show that a tampered, expired or
 * re-targeted pre-signed URL is refused, and that the job side needs nothing but the URLs.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';

import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { JobCacheSpec } from '../../src/api/runner-api.js';
import { cacheConfigSchema, type CacheConfigInput } from '../../src/executors/cache/cache-config.js';
import { remoteCacheFor } from '../../src/executors/cache/remote-cache.js';
import { s3ClientOptions } from '../../src/executors/cache/s3-urls.js';
import { archiveCaches, extractCaches, type CacheRequest } from '../../src/executors/cache/stages.js';
import type { ExecutorJob, JobOutcome } from '../../src/executors/executor.js';
import { executorJob, jobPayload, memoryOutput } from '../kits/executors/job-fixture.js';
import { startS3Server, S3_ACCESS_KEY, S3_SECRET_KEY, type S3ServerProcess } from '../helpers/s3-server.js';
import { tempDir } from '../../harness/temp-dir.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let s3: S3ServerProcess;
let work: { dir: string; remove: () => Promise<void> };
const BUCKET = 'runner-cache';

beforeAll(async () => {
  s3 = await startS3Server('127.0.0.1', [BUCKET]);
  work = await tempDir('flotilla-s3-cache-');
});

afterAll(async () => {
  await s3?.stop();
  await work?.remove();
});

function cacheConfig(overrides: Partial<CacheConfigInput> = {}, address = s3.address) {
  return cacheConfigSchema.parse({
    Type: 's3',
    Path: 'ci',
    s3: {
      ServerAddress: address,
      AccessKey: S3_ACCESS_KEY,
      SecretKey: S3_SECRET_KEY,
      BucketName: BUCKET,
      Insecure: true,
    },
    ...overrides,
  });
}

const spec = (key: string, extra: Partial<JobCacheSpec> = {}): JobCacheSpec => ({
  key,
  untracked: false,
  paths: ['vendor/'],
  policy: 'pull-push',
  when: 'on_success',
  fallback_keys: [],
  ...extra,
});

let jobs = 0;
function job(shortToken: string, cache: ReturnType<typeof cacheConfig>, specs: JobCacheSpec[]): ExecutorJob {
  const payload = jobPayload({ cache: specs });
  const j = executorJob(path.join(work.dir, `runner-${shortToken}`), payload);
  j.runner.shortToken = shortToken;
  j.runner.cache = cache;
  jobs += 1;
  return j;
}

async function request(j: ExecutorJob, outcome: JobOutcome = 'success'): Promise<CacheRequest> {
  const projectDir = path.join(j.runner.buildsDir, `job-${jobs}`);
  await mkdir(projectDir, { recursive: true });
  return {
    payload: j.payload,
    variables: [...j.variables],
    projectDir,
    tmpDir: `${projectDir}.tmp`,
    cacheDir: path.join(j.runner.buildsDir, 'cache'),
    outcome,
    remoteCache: await remoteCacheFor(j),
  };
}

async function save(j: ExecutorJob, content: string): Promise<string> {
  const req = await request(j);
  await mkdir(path.join(req.projectDir, 'vendor'), { recursive: true });
  await writeFile(path.join(req.projectDir, 'vendor', 'dep.txt'), content);
  const out = memoryOutput();
  expect(await archiveCaches(req, out)).toBe(0);
  return out.text();
}

async function restore(j: ExecutorJob): Promise<{ log: string; file: string; req: CacheRequest }> {
  const req = await request(j);
  const out = memoryOutput();
  expect(await extractCaches(req, out)).toBe(0);
  return { log: out.text(), file: path.join(req.projectDir, 'vendor', 'dep.txt'), req };
}

describe('pre-signed URLs against a signature-checking S3 server', () => {
  const client = () => new S3Client(s3ClientOptions(cacheConfig().s3!));

  it('accepts the URL as signed and refuses it tampered, expired, re-targeted or with a wrong key', async () => {
    const Key = 'ci/probe/object';
    const put = await getSignedUrl(client(), new PutObjectCommand({ Bucket: BUCKET, Key }), {
      expiresIn: 60,
    });
    expect((await fetch(put, { method: 'PUT', body: 'payload' })).status).toBe(200);
    const get = await getSignedUrl(client(), new GetObjectCommand({ Bucket: BUCKET, Key }), {
      expiresIn: 60,
    });
    const ok = await fetch(get);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('payload');

    const tampered = get.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
    );
    const refused = await fetch(tampered);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('<Code>SignatureDoesNotMatch</Code>');

    const longAgo = new Date(Date.UTC(2020, 0, 1));
    const expired = await getSignedUrl(client(), new GetObjectCommand({ Bucket: BUCKET, Key }), {
      expiresIn: 60,
      signingDate: longAgo,
    });
    const late = await fetch(expired);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('Request has expired');

    const retargeted = put.replace('/ci/probe/object?', '/ci/probe/other?');
    expect((await fetch(retargeted, { method: 'PUT', body: 'x' })).status).toBe(403);

    const wrongSecret = { ...cacheConfig().s3!, SecretKey: 'not-the-secret' };
    const forged = await getSignedUrl(
      new S3Client(s3ClientOptions(wrongSecret)),
      new GetObjectCommand({ Bucket: BUCKET, Key }),
      { expiresIn: 60 },
    );
    expect((await fetch(forged)).status).toBe(403);
  });
});

describe('the distributed cache between runners', () => {
  it('restores on another runner sharing the bucket, and keeps unshared runners apart', async () => {
    const shared = cacheConfig({ Shared: true });
    const log = await save(job('runnerA1', shared, [spec('deps-non_protected')]), 'from A\n');
    expect(log).toContain(
      `Uploading cache.zip to http://${s3.address}/${BUCKET}/ci/project/3/deps-non_protected`,
    );
    expect(log).toContain('on the cache server');
    expect(log).not.toContain('X-Amz-Signature');

    const b = await restore(job('runnerB1', shared, [spec('deps-non_protected', { policy: 'pull' })]));
    expect(b.log).toContain('Successfully extracted cache');
    expect(await readFile(b.file, 'utf8')).toBe('from A\n');
    expect(b.req.remoteCache?.entries[0]?.save).toBeNull();

    const own = cacheConfig({ Shared: false });
    await save(job('runnerA1', own, [spec('mine')]), 'private\n');
    const other = await restore(job('runnerB1', own, [spec('mine')]));
    expect(other.log).toContain('mine: not found on the cache server');
    expect(existsSync(other.file)).toBe(false);
    const same = await restore(job('runnerA1', own, [spec('mine')]));
    expect(await readFile(same.file, 'utf8')).toBe('private\n');
  });

  it('tries fallback keys on the server in order', async () => {
    const shared = cacheConfig({ Shared: true });
    await save(job('runnerA2', shared, [spec('main-branch')]), 'main\n');
    const b = await restore(
      job('runnerB2', shared, [spec('feature-x', { fallback_keys: ['absent', 'main-branch'] })]),
    );
    expect(b.log).toMatch(
      /Checking cache for feature-x[\s\S]*Checking cache for absent[\s\S]*Checking cache for main-branch/,
    );
    expect(await readFile(b.file, 'utf8')).toBe('main\n');
  });

  it('warns about a bad key and an oversized archive, and never fails the job', async () => {
    const limited = cacheConfig({ Shared: true, MaxUploadedArchiveSize: 10 });
    const log = await save(job('runnerA3', limited, [spec('big')]), 'x'.repeat(4096));
    expect(log).toMatch(
      /cache archive size \(\d+ bytes\) exceeds MaxUploadedArchiveSize \(10\); not uploaded/,
    );
    const bad = await restore(job('runnerB3', limited, [spec('../../escape')]));
    expect(bad.log).toContain('cache key "../../escape": no cache server URL');
  });

  it('warns and goes on when the cache server cannot be reached', async () => {
    const down = cacheConfig({ Shared: true }, `127.0.0.1:${await closedPort()}`);
    const log = await save(job('runnerA4', down, [spec('offline')]), 'kept locally\n');
    expect(log).toContain('Created cache');
    expect(log).toMatch(/WARNING: Failed to upload cache offline to the cache server: ECONNREFUSED/);
    const again = await restore(job('runnerA4', down, [spec('offline')]));
    expect(again.log).toMatch(
      /WARNING: Failed to download cache offline from the cache server: ECONNREFUSED/,
    );
    // the runner's local copy still serves it
    expect(await readFile(again.file, 'utf8')).toBe('kept locally\n');
  });
});
