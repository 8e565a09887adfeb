/** Which cache keys a job restores and which entries it saves, as gitlab-runner decides. */
import type { JobCacheSpec } from '../../api/runner-api.js';
import type { JobOutcome } from '../executor.js';

/** Keys tried in order on restore: the key, its fallback keys, then CACHE_FALLBACK_KEY. */
export function restoreKeys(spec: JobCacheSpec, fallbackVariable: string | undefined): string[] {
  const keys = [spec.key, ...spec.fallback_keys];
  if (fallbackVariable) keys.push(fallbackVariable);
  return [...new Set(keys.filter((k) => k !== ''))];
}

/** Whether a `cache:when` entry is saved for a job ending with `outcome`. */
export function cacheApplies(spec: JobCacheSpec, outcome: JobOutcome): boolean {
  if (spec.policy === 'pull') return false;
  if (spec.when === 'always') return true;
  return spec.when === (outcome === 'success' ? 'on_success' : 'on_failure');
}
