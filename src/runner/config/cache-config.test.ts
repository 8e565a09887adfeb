import { describe, expect, it } from 'vitest';

import { isFlotillaError } from '../../shared/errors.js';
import { s3AuthenticationType } from '../../executors/cache/cache-config.js';
import { validateConfig } from './load.js';

const runner = (cache: unknown) => ({
  runners: [{ url: 'http://127.0.0.1:8080', token: 'glrt-abcdefghijkl', executor: 'shell', cache }],
});

function issues(cache: unknown): string {
  try {
    validateConfig(runner(cache));
  } catch (err) {
    if (isFlotillaError(err, 'FLO_ERR_CONFIG_INVALID')) return err.message;
    throw err;
  }
  return '';
}

describe('[runners.cache] config', () => {
  it("parses gitlab-runner's keys with their defaults", () => {
    const { config, warnings } = validateConfig(
      runner({
        Type: 's3',
        Path: '/ci/cache/',
        Shared: true,
        MaxUploadedArchiveSize: 1024,
        s3: {
          ServerAddress: 'minio.internal:9000',
          AccessKey: 'AK',
          SecretKey: 'SK',
          BucketName: 'runner-cache',
          BucketLocation: 'eu-west-1',
          Insecure: true,
        },
      }),
    );
    expect(warnings).toEqual([]);
    const cache = config.runners[0]?.cache;
    expect(cache).toMatchObject({ Type: 's3', Path: 'ci/cache', Shared: true, MaxUploadedArchiveSize: 1024 });
    expect(cache?.s3).toMatchObject({ ServerAddress: 'minio.internal:9000', BucketLocation: 'eu-west-1' });
    expect(s3AuthenticationType(cache!.s3!)).toBe('access-key');

    const minimal = validateConfig(runner({ Type: 's3', s3: { BucketName: 'b-1' } })).config.runners[0]
      ?.cache;
    expect(minimal).toMatchObject({ Path: '', Shared: false, MaxUploadedArchiveSize: 0 });
    expect(minimal?.s3).toMatchObject({ ServerAddress: 's3.amazonaws.com', BucketLocation: 'us-east-1' });
    expect(s3AuthenticationType(minimal!.s3!)).toBe('iam');
  });

  it('names the key and what is allowed for every bad value', () => {
    expect(issues({ Type: 'gcs' })).toContain('runners[0].cache.Type: must be one of: s3');
    expect(issues({ Type: 's3' })).toContain('runners[0].cache.s3: is required with Type = "s3"');
    expect(issues({ Type: 's3', s3: { BucketName: 'Bad_Bucket' } })).toContain(
      'runners[0].cache.s3.BucketName: must be a bucket name',
    );
    expect(issues({ Type: 's3', s3: { BucketName: 'b-1', ServerAddress: 'https://x:9000' } })).toContain(
      'runners[0].cache.s3.ServerAddress: must look like "host" or "host:port"',
    );
    expect(issues({ Type: 's3', Path: 'a/../b', s3: { BucketName: 'b-1' } })).toContain(
      'runners[0].cache.Path: must not contain "." or ".." segments',
    );
    expect(issues({ Type: 's3', MaxUploadedArchiveSize: -1, s3: { BucketName: 'b-1' } })).toContain(
      'runners[0].cache.MaxUploadedArchiveSize: must be a non-negative integer',
    );
    expect(
      issues({ Type: 's3', s3: { BucketName: 'b-1', AuthenticationType: 'access-key', AccessKey: 'AK' } }),
    ).toContain('runners[0].cache.s3.SecretKey: is required with AuthenticationType = "access-key"');
    expect(issues({ Type: 's3', s3: { BucketName: 'b-1', AuthenticationType: 'token' } })).toContain(
      'runners[0].cache.s3.AuthenticationType: must be one of: access-key, iam',
    );
  });

  it('never echoes a secret key in an error', () => {
    const message = issues({ Type: 's3', s3: { BucketName: 'b-1', AccessKey: 'AK', SecretKey: 42 } });
    expect(message).toContain('runners[0].cache.s3.SecretKey: must be a string');
    expect(message).not.toContain('42');
  });
});
