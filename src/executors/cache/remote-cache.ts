/**
 * The distributed cache as the runner manager hands it to a job: for every `cache:` entry, the
 * pre-signed GET URLs of the keys it may restore (key, fallback keys, CACHE_FALLBACK_KEY) and the
 * pre-signed PUT URL of the key it saves. Nothing here can fail a job: a bad key or a signing
 * failure becomes a warning the job's log shows.
 */
import type { CacheConfig } from './cache-config.js';
import { errorMessage } from '../../shared/errors.js';
import { variableValue, type ExecutorJob } from '../executor.js';
import { restoreKeys } from './keys.js';
import { cacheObjectName } from './object-name.js';
import type { CacheUrlSigner } from './s3-urls.js';

export interface RemoteCacheUrl {
  key: string;
  /** The object name in the bucket (shown in logs: never the signed query). */
  objectName: string;
  url: string;
}

export interface RemoteCacheEntry {
  /** Pre-signed GET URLs, in the order keys are tried; empty with `policy: push`. */
  restore: RemoteCacheUrl[];
  /** Pre-signed PUT URL of the entry's key; null with `policy: pull` or a bad key. */
  save: RemoteCacheUrl | null;
  /** Keys that could not be signed and why. */
  warnings: string[];
}

/** What the helper gets: one entry per `payload.cache` entry, same order. */
export interface RemoteCache {
  entries: RemoteCacheEntry[];
  /** `MaxUploadedArchiveSize`: larger archives are not uploaded; 0 means no limit. */
  maxUploadedArchiveSize: number;
}

/** URLs outlive the job's timeout by an hour, so a slow archive still uploads. */
const EXPIRY_MARGIN_SECONDS = 3600;

async function signEntry(
  job: ExecutorJob,
  cache: CacheConfig,
  signer: CacheUrlSigner,
  index: number,
): Promise<RemoteCacheEntry> {
  const spec = job.payload.cache[index];
  const entry: RemoteCacheEntry = { restore: [], save: null, warnings: [] };
  if (!spec) return entry;
  const expires = (job.payload.runner_info.timeout || 3600) + EXPIRY_MARGIN_SECONDS;
  const base = {
    path: cache.Path,
    shared: cache.Shared,
    shortToken: job.runner.shortToken,
    projectId: job.payload.job_info.project_id,
  };
  const sign = async (key: string, put: boolean): Promise<RemoteCacheUrl | null> => {
    try {
      const objectName = cacheObjectName({ ...base, key });
      const url = put
        ? await signer.uploadUrl(objectName, expires)
        : await signer.downloadUrl(objectName, expires);
      return { key, objectName, url };
    } catch (err) {
      entry.warnings.push(`cache key "${key}": no cache server URL (${errorMessage(err)})`);
      return null;
    }
  };
  if (spec.policy !== 'push') {
    const keys = restoreKeys(spec, variableValue(job.variables, 'CACHE_FALLBACK_KEY'));
    for (const key of keys) {
      const url = await sign(key, false);
      if (url) entry.restore.push(url);
    }
  }
  if (spec.policy !== 'pull' && spec.key !== '') entry.save = await sign(spec.key, true);
  return entry;
}

/**
 * The remote cache of a job, or undefined when its runner has no `[runners.cache]` (or the job no
 * `cache:`). `signer` defaults to one for `[runners.cache.s3]`.
 */
export async function remoteCacheFor(
  job: ExecutorJob,
  signer?: CacheUrlSigner,
): Promise<RemoteCache | undefined> {
  const cache = job.runner.cache;
  if (!cache?.s3 || job.payload.cache.length === 0) return undefined;
  let using: CacheUrlSigner;
  try {
    // The S3 SDK loads only for a job that uses the distributed cache.
    using = signer ?? (await import('./s3-urls.js')).createS3UrlSigner(cache.s3);
  } catch (err) {
    const warning = `the cache server cannot be used: ${errorMessage(err)}`;
    const entries = job.payload.cache.map(() => ({ restore: [], save: null, warnings: [warning] }));
    return { entries, maxUploadedArchiveSize: cache.MaxUploadedArchiveSize };
  }
  const entries = await Promise.all(job.payload.cache.map((_, i) => signEntry(job, cache, using, i)));
  return { entries, maxUploadedArchiveSize: cache.MaxUploadedArchiveSize };
}
