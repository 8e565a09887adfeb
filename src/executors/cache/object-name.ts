/**
 * Cache object names in the bucket, as gitlab-runner builds them:
 * `<Path>/runner/<short token>/project/<project id>/<key>`, or `<Path>/project/<project id>/<key>`
 * when the cache is `Shared`. A key that would leave its project's prefix (`..`), or is empty, is
 * refused with `FLO_ERR_CACHE_KEY_INVALID`.
 */
import { posix } from 'node:path';

import { FlotillaError } from '../../shared/errors.js';

export interface ObjectNameInput {
  /** `[runners.cache] Path`, without leading or trailing slashes. */
  path: string;
  shared: boolean;
  /** The runner's short token (first 8 characters of the token after its prefix). */
  shortToken: string;
  projectId: number;
  key: string;
}

function invalidKey(key: string, why: string): FlotillaError {
  return new FlotillaError('FLO_ERR_CACHE_KEY_INVALID', `cache key "${key}" ${why}`, {
    details: { key },
  });
}

/** The prefix every cache object of one project (and runner, unless shared) lives under. */
export function cacheObjectPrefix(input: Omit<ObjectNameInput, 'key'>): string {
  const runner = input.shared ? [] : ['runner', input.shortToken];
  return posix.join(input.path || '.', ...runner, 'project', String(input.projectId));
}

/** The object name of one cache key; throws `FLO_ERR_CACHE_KEY_INVALID` for a bad key. */
export function cacheObjectName(input: ObjectNameInput): string {
  const key = input.key;
  if (key.trim() === '') throw invalidKey(key, 'is empty');
  if (key.length > 255) throw invalidKey(key, 'is longer than 255 characters');
  if (key.includes('\0')) throw invalidKey(key, 'contains a NUL byte');
  const base = cacheObjectPrefix(input);
  const full = posix.join(base, key);
  if (!full.startsWith(`${base}/`))
    throw invalidKey(key, 'computes a cache path outside of the project prefix; remove "../" from the key');
  return full;
}
