/**
 * The helper's local cache: `cache-extractor` (restore_cache) and `cache-archiver` (archive_cache*).
 * One zip per key at `<cacheDir>/<key>/cache.zip`; the cache store is mounted per project, so jobs
 * of other projects never see it. Cache failures are warnings, as in gitlab-runner: they never fail
 * the job.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { JobCacheSpec } from '../api/runner-api.js';
import { collectArtifactFiles } from '../executors/artifacts/collect.js';
import { extractZip, writeZip } from '../executors/artifacts/zip.js';
import type { HelperRequest } from '../executors/docker/helper-request.js';
import { variableValue, type JobOutput } from '../executors/executor.js';
import { errorMessage } from '../shared/errors.js';

const YELLOW = '\x1b[0;33m';
const GREEN = '\x1b[32;1m';
const RESET = '\x1b[0;m';

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

function archivePath(cacheDir: string, key: string): string | null {
  const folder = cacheKeyFolder(key);
  return folder === null ? null : join(cacheDir, folder, 'cache.zip');
}

/** Keys tried in order on restore: the key, its fallback keys, then CACHE_FALLBACK_KEY. */
export function restoreKeys(spec: JobCacheSpec, fallbackVariable: string | undefined): string[] {
  const keys = [spec.key, ...spec.fallback_keys];
  if (fallbackVariable) keys.push(fallbackVariable);
  return [...new Set(keys.filter((k) => k !== ''))];
}

async function restoreOne(request: HelperRequest, spec: JobCacheSpec, output: JobOutput): Promise<void> {
  const cacheDir = request.cacheDir ?? '';
  if (spec.policy === 'push') {
    output.write(`Not downloading cache ${spec.key} due to policy\n`);
    return;
  }
  for (const key of restoreKeys(spec, variableValue(request.variables, 'CACHE_FALLBACK_KEY'))) {
    output.write(`Checking cache for ${key}...\n`);
    const file = archivePath(cacheDir, key);
    if (file === null) {
      warn(output, `cache key "${key}" is not a valid folder name; skipped`);
      continue;
    }
    if (!existsSync(file)) {
      warn(output, `${key}/cache.zip: file does not exist`);
      continue;
    }
    try {
      await extractZip(file, request.projectDir, {
        onSkip: (name, reason) => warn(output, `${name}: skipped, ${reason}`),
      });
      output.write(`${GREEN}Successfully extracted cache${RESET}\n`);
      return;
    } catch (err) {
      warn(output, `Failed to extract cache ${key}: ${errorMessage(err)}`);
    }
  }
  warn(output, `Failed to extract cache: no cache found for ${spec.key}`);
}

/** `cache-extractor`: restores every `pull`/`pull-push` cache entry; always exits 0. */
export async function extractCaches(request: HelperRequest, output: JobOutput): Promise<number> {
  if (request.cacheDir === null) {
    warn(output, 'the local cache is disabled on this runner (disable_cache); cache not restored');
    return 0;
  }
  await mkdir(request.projectDir, { recursive: true });
  for (const spec of request.payload.cache) await restoreOne(request, spec, output);
  return 0;
}

/** Whether a `cache:when` entry is saved for a job ending with `outcome`. */
export function cacheApplies(spec: JobCacheSpec, outcome: HelperRequest['outcome']): boolean {
  if (spec.policy === 'pull') return false;
  if (spec.when === 'always') return true;
  return spec.when === (outcome === 'success' ? 'on_success' : 'on_failure');
}

async function archiveOne(request: HelperRequest, spec: JobCacheSpec, output: JobOutput): Promise<void> {
  const file = archivePath(request.cacheDir ?? '', spec.key);
  if (file === null) {
    warn(output, `cache key "${spec.key}" is not a valid folder name; cache not saved`);
    return;
  }
  output.write(`Creating cache ${spec.key}...\n`);
  const files = await collectArtifactFiles(request.projectDir, {
    paths: spec.paths,
    exclude: [],
    untracked: spec.untracked,
  });
  if (files.length === 0) {
    warn(output, `${spec.paths.join(', ') || 'untracked'}: no matching files; cache not saved`);
    return;
  }
  output.write(`${files.length} file(s) found matching the cache paths\n`);
  await mkdir(join(file, '..'), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  try {
    await writeZip(request.projectDir, files, partial);
    await rename(partial, file);
    output.write(`${GREEN}Created cache${RESET}\n`);
  } catch (err) {
    warn(output, `Failed to create cache ${spec.key}: ${errorMessage(err)}`);
  } finally {
    await rm(partial, { force: true });
  }
}

/** `cache-archiver`: saves every `push`/`pull-push` entry whose `when` fits the outcome; exits 0. */
export async function archiveCaches(request: HelperRequest, output: JobOutput): Promise<number> {
  if (request.cacheDir === null) {
    warn(output, 'the local cache is disabled on this runner (disable_cache); cache not saved');
    return 0;
  }
  for (const spec of request.payload.cache) {
    if (spec.policy === 'pull') output.write(`Not uploading cache ${spec.key} due to policy\n`);
    else if (!cacheApplies(spec, request.outcome))
      output.write(`Not saving cache ${spec.key}: when is ${spec.when}\n`);
    else await archiveOne(request, spec, output);
  }
  return 0;
}
