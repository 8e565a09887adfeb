/**
 * `[runners.cache]` and `[runners.cache.s3]`: the distributed cache, with gitlab-runner's key names
 * (CamelCase, as gitlab-runner spells them). Only `Type = "s3"` is implemented; gitlab-runner's
 * other types (`gcs`, `azure`) are refused with a clear error rather than silently ignored.
 */
import { z } from 'zod';

import type { ConfigTables } from '../executor-config.js';

export const CACHE_TYPES = ['s3'] as const;
export const S3_AUTHENTICATION_TYPES = ['access-key', 'iam'] as const;

const typeMessage = `must be one of: ${CACHE_TYPES.join(', ')} (gcs and azure are not supported)`;
const authMessage = `must be one of: ${S3_AUTHENTICATION_TYPES.join(', ')}`;
const NON_NEG_INT = 'must be a non-negative integer';

function text(what = 'a string'): z.ZodString {
  return z.string({ invalid_type_error: `must be ${what}` });
}

/** A DNS-compatible bucket name (S3's rules for new buckets). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const s3CacheObjectSchema = z.object({
  ServerAddress: text('a "host" or "host:port" string')
    .regex(/^[^\s/:]+(:\d{1,5})?$/, 'must look like "host" or "host:port", without a scheme or path')
    .default('s3.amazonaws.com')
    .describe('The S3 endpoint, "host[:port]" (no scheme: Insecure picks http).'),
  AccessKey: text().default('').describe('Access key of access-key authentication. Stays on the manager.'),
  SecretKey: text().default('').describe('Secret key of access-key authentication. Stays on the manager.'),
  SessionToken: text().optional().describe('Session token of temporary access-key credentials.'),
  BucketName: text('a bucket name')
    .regex(BUCKET_NAME, 'must be a bucket name: 3 to 63 lowercase letters, digits, "." or "-"')
    .describe('The bucket that holds the cache archives (it must exist).'),
  BucketLocation: text().default('us-east-1').describe('The bucket region, used to sign the URLs.'),
  Insecure: z
    .boolean({ invalid_type_error: 'must be true or false' })
    .default(false)
    .describe('true: talk to ServerAddress over http instead of https.'),
  AuthenticationType: z
    .enum(S3_AUTHENTICATION_TYPES, { errorMap: () => ({ message: authMessage }) })
    .optional()
    .describe(
      '"access-key" (AccessKey/SecretKey) or "iam" (the AWS credential chain of the manager); default access-key when AccessKey is set, else iam.',
    ),
  PathStyle: z
    .boolean({ invalid_type_error: 'must be true or false' })
    .optional()
    .describe('Path-style URLs (host/bucket/key); default true unless ServerAddress is AWS.'),
});

export const s3CacheConfigSchema = s3CacheObjectSchema.superRefine((s3, ctx) => {
  const auth = s3.AuthenticationType ?? (s3.AccessKey ? 'access-key' : 'iam');
  if (auth !== 'access-key') return;
  for (const key of ['AccessKey', 'SecretKey'] as const) {
    if (!s3[key])
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [key],
        message: 'is required with AuthenticationType = "access-key"',
      });
  }
});

export const cacheObjectSchema = z.object({
  Type: z
    .enum(CACHE_TYPES, { errorMap: () => ({ message: typeMessage }) })
    .describe('The cache server type.'),
  Path: text('a path prefix')
    .default('')
    .refine(
      (p) => !p.split('/').some((s) => s === '..' || s === '.'),
      'must not contain "." or ".." segments',
    )
    .transform((p) => p.replace(/^\/+|\/+$/g, ''))
    .describe('A prefix for every cache object name in the bucket.'),
  Shared: z
    .boolean({ invalid_type_error: 'must be true or false' })
    .default(false)
    .describe('true: runners share caches (no runner/<token> segment in object names).'),
  MaxUploadedArchiveSize: z
    .number({ invalid_type_error: NON_NEG_INT })
    .int(NON_NEG_INT)
    .min(0, NON_NEG_INT)
    .default(0)
    .describe(
      'Largest cache archive uploaded, in bytes; a larger one is not uploaded (warning). 0: no limit.',
    ),
  s3: s3CacheConfigSchema.optional().describe('[runners.cache.s3]: the S3 server and bucket.'),
});

export const cacheConfigSchema = cacheObjectSchema.superRefine((cache, ctx) => {
  if (cache.Type === 's3' && !cache.s3)
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['s3'],
      message: 'is required with Type = "s3": add a [runners.cache.s3] table with BucketName',
    });
});

export type CacheConfig = z.output<typeof cacheConfigSchema>;
export type S3CacheConfig = z.output<typeof s3CacheConfigSchema>;
export type CacheConfigInput = z.input<typeof cacheConfigSchema>;

/** The authentication type in force: AuthenticationType, else access-key when AccessKey is set. */
export function s3AuthenticationType(s3: S3CacheConfig): (typeof S3_AUTHENTICATION_TYPES)[number] {
  return s3.AuthenticationType ?? (s3.AccessKey ? 'access-key' : 'iam');
}

/** `[runners.cache]` as every executor reads it: the `[[runners]]` key and its sections of docs/config.md. */
export const cacheConfigTables = {
  tables: {
    cache: cacheConfigSchema
      .optional()
      .describe(
        '[runners.cache]: the distributed cache (Type = "s3"); jobs get pre-signed URLs, never the credentials.',
      ),
  },
  docs: [
    {
      heading: '`[runners.cache]` keys (distributed cache)',
      intro: "See docs/cache.md. gitlab-runner's key names and spelling.",
      prefix: 'runners.cache.',
      schema: cacheObjectSchema,
      omit: ['s3'],
    },
    { heading: '`[runners.cache.s3]` keys', prefix: 'runners.cache.s3.', schema: s3CacheObjectSchema },
  ],
} satisfies ConfigTables;
