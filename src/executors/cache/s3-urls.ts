/**
 * Pre-signed S3 URLs for cache archives, made on the runner manager with the real AWS SDK v3: the
 * job (its helper container or shell process) only ever gets a GET URL to restore and a PUT URL to
 * save, valid for one object and a limited time, so the bucket's credentials never reach the job's
 * machine (as gitlab-runner does).
 */
import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

import { s3AuthenticationType, type S3CacheConfig } from './cache-config.js';

/** Signs GET and PUT URLs of one bucket's objects. */
export interface CacheUrlSigner {
  downloadUrl(objectName: string, expiresInSeconds: number): Promise<string>;
  uploadUrl(objectName: string, expiresInSeconds: number): Promise<string>;
}

/** S3 refuses pre-signed URLs valid for more than 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

function isAws(host: string): boolean {
  return /(^|\.)amazonaws\.com(\.cn)?(:\d+)?$/.test(host);
}

/** The SDK client options of `[runners.cache.s3]` (exported for tests). */
export function s3ClientOptions(s3: S3CacheConfig): S3ClientConfig {
  const options: S3ClientConfig = {
    region: s3.BucketLocation || 'us-east-1',
    forcePathStyle: s3.PathStyle ?? !isAws(s3.ServerAddress),
    // The object is signed once here and fetched elsewhere: no SDK-added checksum may be required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (!isAws(s3.ServerAddress) || s3.Insecure)
    options.endpoint = `${s3.Insecure ? 'http' : 'https'}://${s3.ServerAddress}`;
  if (s3AuthenticationType(s3) === 'access-key') {
    options.credentials = {
      accessKeyId: s3.AccessKey,
      secretAccessKey: s3.SecretKey,
      ...(s3.SessionToken ? { sessionToken: s3.SessionToken } : {}),
    };
  }
  return options;
}

function clampExpiry(seconds: number): number {
  return Math.max(1, Math.min(MAX_PRESIGN_SECONDS, Math.ceil(seconds)));
}

/** A signer for `[runners.cache.s3]`; `iam` takes the AWS credential chain of the manager. */
export function createS3UrlSigner(
  s3: S3CacheConfig,
  client = new S3Client(s3ClientOptions(s3)),
): CacheUrlSigner {
  const Bucket = s3.BucketName;
  return {
    downloadUrl: (Key, expires) =>
      getSignedUrl(client, new GetObjectCommand({ Bucket, Key }), { expiresIn: clampExpiry(expires) }),
    uploadUrl: (Key, expires) =>
      getSignedUrl(client, new PutObjectCommand({ Bucket, Key }), { expiresIn: clampExpiry(expires) }),
  };
}
