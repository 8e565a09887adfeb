/**
 * The cache stages, run by the helper program (docker) and the shell executor: `cache-extractor` (restore_cache) and `cache-archiver` (archive_cache*).
 * Locally, one zip per key at `<cacheDir>/<key>/cache.zip`; the cache store is mounted per project,
 * so jobs of other projects never see it. With a distributed cache (`[runners.cache]`), the request
 * carries pre-signed URLs made by the runner manager: restore downloads the archive first (falling
 * back to the local copy when the server cannot be reached), save uploads it after writing it
 * locally. Cache failures are warnings, as in gitlab-runner: they never fail the job.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

import type { JobCacheSpec } from '../../api/runner-api.js';
import { collectArtifactFiles } from '../artifacts/collect.js';
import { extractZip, writeZip } from '../artifacts/zip.js';
import { cacheApplies, restoreKeys } from './keys.js';
import type { RemoteCacheEntry, RemoteCacheUrl } from './remote-cache.js';
import type { HelperRequest } from '../docker/helper-request.js';
import { variableValue, type JobOutput } from '../executor.js';
import { errorMessage } from '../../shared/errors.js';
import { displayUrl, downloadArchive, uploadArchive } from './transfer.js';

export { cacheApplies, restoreKeys };

const YELLOW = '\x1b[0;33m';
const GREEN = '\x1b[32;1m';
const RESET = '\x1b[0;m';

/** What the cache stages need: the helper's request (the shell executor builds the same). */
export type CacheRequest = Pick<
  HelperRequest,
  'payload' | 'variables' | 'projectDir' | 'tmpDir' | 'cacheDir' | 'outcome' | 'remoteCache'
>;

/** The folder name of a cache key, or null when the key cannot be a safe folder name. */
export function cacheKeyFolder(key: string): string | null {
  const trimmed = key.trim();
  if (trimmed === '' || trimmed.length > 255) return null;
  const parts = trimmed.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return null;
  return parts.map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')).join('/');
}

function warn(output: JobOutput, text: string): void {
  output.write(`${YELLOW}WARNING: ${text}${RESET}\n`);
}

/** Where a key's archive lives locally: the cache store, or the job's scratch folder without one. */
function archivePath(request: CacheRequest, key: string): string | null {
  const folder = cacheKeyFolder(key);
  if (folder === null) return null;
  return join(request.cacheDir ?? join(request.tmpDir, 'cache'), folder, 'cache.zip');
}

/** The entry's pre-signed URLs, after showing the manager's warnings about them. */
function remoteEntry(request: CacheRequest, index: number, output: JobOutput): RemoteCacheEntry | undefined {
  const entry = request.remoteCache?.entries[index];
  if (entry) for (const w of entry.warnings) warn(output, w);
  return entry;
}

/**
 * Downloads a key's archive to `file`: `downloaded` when the local file is now the server's copy,
 * `missing` when the server has none, `failed` when the download failed (no answer, a 5xx...).
 */
async function fetchRemote(
  remote: RemoteCacheUrl,
  file: string,
  output: JobOutput,
): Promise<'downloaded' | 'missing' | 'failed'> {
  output.write(`Downloading cache from ${displayUrl(remote.url)}\n`);
  await mkdir(join(file, '..'), { recursive: true });
  const partial = `${file}.${process.pid}.download`;
  const result = await downloadArchive(remote.url, partial);
  if (result.kind === 'downloaded') {
    await rename(partial, file);
    return 'downloaded';
  }
  await rm(partial, { force: true });
  if (result.kind === 'missing') warn(output, `${remote.key}: not found on the cache server`);
  else warn(output, `Failed to download cache ${remote.key} from the cache server: ${result.reason}`);
  return result.kind;
}

/** What restoring one key (or one cache entry) came to. */
type Restored = 'extracted' | 'not_found' | 'download_failed';

async function tryKey(
  request: CacheRequest,
  key: string,
  remote: RemoteCacheUrl | undefined,
  output: JobOutput,
): Promise<Restored> {
  output.write(`Checking cache for ${key}...\n`);
  const file = archivePath(request, key);
  if (file === null) {
    warn(output, `cache key "${key}" is not a valid folder name; skipped`);
    return 'not_found';
  }
  const fetched = remote ? await fetchRemote(remote, file, output) : 'missing';
  if (!existsSync(file)) {
    if (!remote) warn(output, `${key}/cache.zip: file does not exist`);
    return fetched === 'failed' ? 'download_failed' : 'not_found';
  }
  try {
    await extractZip(file, request.projectDir, {
      onSkip: (name, reason) => warn(output, `${name}: skipped, ${reason}`),
    });
    output.write(`${GREEN}Successfully extracted cache${RESET}\n`);
    return 'extracted';
  } catch (err) {
    warn(output, `Failed to extract cache ${key}: ${errorMessage(err)}`);
    return 'not_found';
  }
}

async function restoreOne(request: CacheRequest, index: number, output: JobOutput): Promise<Restored> {
  const spec = request.payload.cache[index] as JobCacheSpec;
  if (spec.policy === 'push') {
    output.write(`Not downloading cache ${spec.key} due to policy\n`);
    return 'not_found';
  }
  const remote = remoteEntry(request, index, output);
  let failed = false;
  for (const key of restoreKeys(spec, variableValue(request.variables, 'CACHE_FALLBACK_KEY'))) {
    const url = remote?.restore.find((r) => r.key === key);
    const restored = await tryKey(request, key, url, output);
    if (restored === 'extracted') return restored;
    failed ||= restored === 'download_failed';
  }
  warn(output, `Failed to extract cache: no cache found for ${spec.key}`);
  return failed ? 'download_failed' : 'not_found';
}

function cacheUsable(request: CacheRequest, output: JobOutput, what: string): boolean {
  if (request.cacheDir !== null || request.remoteCache) return true;
  warn(output, `the local cache is disabled on this runner (disable_cache); cache not ${what}`);
  return false;
}

/**
 * `cache-extractor`: restores every `pull`/`pull-push` cache entry. Exits 1 when the download of an
 * entry failed (no answer, a 5xx: not a key the server does not have) and no key of it could be
 * restored, so `RESTORE_CACHE_ATTEMPTS` runs the stage again; a missing cache exits 0. The stage
 * runner turns a last failed attempt into a warning: a cache never fails the job.
 */
export async function extractCaches(request: CacheRequest, output: JobOutput): Promise<number> {
  if (!cacheUsable(request, output, 'restored')) return 0;
  await mkdir(request.projectDir, { recursive: true });
  let failed = false;
  for (let i = 0; i < request.payload.cache.length; i++)
    failed = (await restoreOne(request, i, output)) === 'download_failed' || failed;
  return failed ? 1 : 0;
}

async function uploadRemote(request: CacheRequest, remote: RemoteCacheUrl, file: string, output: JobOutput) {
  const size = (await stat(file)).size;
  const max = request.remoteCache?.maxUploadedArchiveSize ?? 0;
  if (max > 0 && size > max) {
    warn(output, `cache archive size (${size} bytes) exceeds MaxUploadedArchiveSize (${max}); not uploaded`);
    return;
  }
  output.write(`Uploading cache.zip to ${displayUrl(remote.url)}\n`);
  const failure = await uploadArchive(remote.url, file);
  if (failure === null) output.write(`${GREEN}Created cache${RESET} on the cache server\n`);
  else warn(output, `Failed to upload cache ${remote.key} to the cache server: ${failure}`);
}

async function writeArchive(request: CacheRequest, spec: JobCacheSpec, file: string, output: JobOutput) {
  const files = await collectArtifactFiles(request.projectDir, {
    paths: spec.paths,
    exclude: [],
    untracked: spec.untracked,
  });
  if (files.length === 0) {
    warn(output, `${spec.paths.join(', ') || 'untracked'}: no matching files; cache not saved`);
    return false;
  }
  output.write(`${files.length} file(s) found matching the cache paths\n`);
  await mkdir(join(file, '..'), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  try {
    await writeZip(request.projectDir, files, partial);
    await rename(partial, file);
    output.write(`${GREEN}Created cache${RESET}\n`);
    return true;
  } catch (err) {
    warn(output, `Failed to create cache ${spec.key}: ${errorMessage(err)}`);
    return false;
  } finally {
    await rm(partial, { force: true });
  }
}

async function archiveOne(request: CacheRequest, index: number, output: JobOutput): Promise<void> {
  const spec = request.payload.cache[index] as JobCacheSpec;
  const remote = remoteEntry(request, index, output);
  const file = archivePath(request, spec.key);
  if (file === null) {
    warn(output, `cache key "${spec.key}" is not a valid folder name; cache not saved`);
    return;
  }
  output.write(`Creating cache ${spec.key}...\n`);
  if (!(await writeArchive(request, spec, file, output))) return;
  if (remote?.save) await uploadRemote(request, remote.save, file, output);
}

/** `cache-archiver`: saves every `push`/`pull-push` entry whose `when` fits the outcome; exits 0. */
export async function archiveCaches(request: CacheRequest, output: JobOutput): Promise<number> {
  if (!cacheUsable(request, output, 'saved')) return 0;
  for (let i = 0; i < request.payload.cache.length; i++) {
    const spec = request.payload.cache[i] as JobCacheSpec;
    if (spec.policy === 'pull') output.write(`Not uploading cache ${spec.key} due to policy\n`);
    else if (!cacheApplies(spec, request.outcome))
      output.write(`Not saving cache ${spec.key}: when is ${spec.when}\n`);
    else await archiveOne(request, i, output);
  }
  return 0;
}
