import { parseDuration } from '../shared/duration.js';
import { addWarning } from './diagnostics.js';
import { checkKeys, childSite, keyError, siteError, type Site } from './report.js';
import { isMap, stringOrArray, type RawMap } from './raw.js';
import type { ArtifactsDefinition, CacheDefinition } from './types.js';

const ARTIFACT_KEYS = [
  'paths',
  'exclude',
  'name',
  'untracked',
  'when',
  'expire_in',
  'expose_as',
  'reports',
  'public',
  'access',
];
const REPORT_KEYS = [
  'junit',
  'dotenv',
  'coverage_report',
  'codequality',
  'sast',
  'dependency_scanning',
  'container_scanning',
  'dast',
  'license_scanning',
  'performance',
  'browser_performance',
  'load_performance',
  'metrics',
  'terraform',
  'requirements',
  'cyclonedx',
  'secret_detection',
  'annotations',
  'api_fuzzing',
  'coverage_fuzzing',
];
const ARTIFACT_WHEN = ['on_success', 'on_failure', 'always'] as const;
const CACHE_KEYS = ['key', 'paths', 'untracked', 'policy', 'when', 'fallback_keys', 'unprotect'];
const CACHE_POLICIES = ['pull', 'push', 'pull-push'] as const;
const MAX_CACHES = 4;

function stringList(site: Site, key: string): string[] {
  const raw = site.map[key];
  if (raw === undefined || raw === null) return [];
  const list = stringOrArray(raw);
  if (!list) keyError(site, key, 'config should be an array of strings');
  return list ?? [];
}

function oneOf<T extends string>(site: Site, key: string, allowed: readonly T[], fallback: T): T {
  const raw = site.map[key];
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as T;
  keyError(site, key, `config should be one of: ${allowed.join(', ')}`);
  return fallback;
}

function optionalBool(site: Site, key: string): boolean {
  const raw = site.map[key];
  if (raw === undefined || raw === null) return false;
  if (typeof raw !== 'boolean') keyError(site, key, 'config should be a boolean value');
  return raw === true;
}

/** `artifacts`, validated. `reports` is kept as `{ type: paths }`. */
export function parseArtifacts(site: Site): ArtifactsDefinition | null {
  const raw = site.map['artifacts'];
  if (raw === undefined || raw === null) return null;
  if (!isMap(raw)) {
    keyError(site, 'artifacts', 'config should be a hash');
    return null;
  }
  const a = childSite(site, 'artifacts', raw);
  checkKeys(a, ARTIFACT_KEYS);
  const expireIn = raw['expire_in'];
  if (expireIn !== undefined && !isDurationOrNever(expireIn))
    keyError(a, 'expire_in', 'config should be a duration');
  const name = raw['name'];
  if (name !== undefined && typeof name !== 'string') keyError(a, 'name', 'config should be a string');
  const reports = parseReports(a);
  if (raw['expose_as'] !== undefined) {
    if (typeof raw['expose_as'] !== 'string') keyError(a, 'expose_as', 'config should be a string');
    addWarning(
      a.diag,
      `${a.path}:expose_as has no effect here: there are no merge request pages to show it on`,
    );
  }
  return {
    name: typeof name === 'string' ? name : null,
    paths: stringList(a, 'paths'),
    exclude: stringList(a, 'exclude'),
    untracked: optionalBool(a, 'untracked'),
    when: oneOf(a, 'when', ARTIFACT_WHEN, 'on_success'),
    expireIn: typeof expireIn === 'string' || typeof expireIn === 'number' ? String(expireIn) : null,
    ...(reports ? { reports } : {}),
    access: parseAccess(a),
  };
}

const ACCESS = ['all', 'developer', 'none'] as const;

/** `access`, or the older `public` (false = developer); GitLab refuses both together. */
function parseAccess(site: Site): ArtifactsDefinition['access'] {
  const { public: pub, access } = site.map;
  if (pub !== undefined && access !== undefined) {
    siteError(site, 'config cannot use both public and access: use access only');
    return 'all';
  }
  if (pub !== undefined) {
    if (typeof pub !== 'boolean') keyError(site, 'public', 'config should be a boolean value');
    return pub === false ? 'developer' : 'all';
  }
  return oneOf(site, 'access', ACCESS, 'all');
}

function isDurationOrNever(value: unknown): boolean {
  if (value === 'never') return true;
  if (typeof value !== 'string' && typeof value !== 'number') return false;
  try {
    parseDuration(value);
    return true;
  } catch {
    return false;
  }
}

function parseReports(site: Site): Record<string, string[]> | null {
  const raw = site.map['reports'];
  if (raw === undefined || raw === null) return null;
  if (!isMap(raw)) {
    keyError(site, 'reports', 'config should be a hash');
    return null;
  }
  const reports = childSite(site, 'reports', raw);
  checkKeys(reports, REPORT_KEYS);
  const out: Record<string, string[]> = {};
  for (const k of Object.keys(raw)) if (REPORT_KEYS.includes(k)) out[k] = stringList(reports, k);
  return out;
}

/** `cache`: one hash or an array of up to four. */
export function parseCache(site: Site): CacheDefinition[] {
  const raw = site.map['cache'];
  if (raw === undefined || raw === null) return [];
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  if (list.length > MAX_CACHES)
    keyError(site, 'cache', `config no more than ${MAX_CACHES} caches can be created`);
  const out: CacheDefinition[] = [];
  for (const item of list.slice(0, MAX_CACHES)) {
    if (!isMap(item)) {
      keyError(site, 'cache', 'config should be a hash or an array of hashes');
      continue;
    }
    out.push(parseOneCache(childSite(site, 'cache', item)));
  }
  return out;
}

function parseOneCache(site: Site): CacheDefinition {
  checkKeys(site, CACHE_KEYS);
  const key = parseCacheKey(site);
  return {
    ...key,
    paths: stringList(site, 'paths'),
    untracked: optionalBool(site, 'untracked'),
    policy: oneOf(site, 'policy', CACHE_POLICIES, 'pull-push'),
    when: oneOf(site, 'when', ARTIFACT_WHEN, 'on_success'),
    fallbackKeys: stringList(site, 'fallback_keys'),
    unprotect: optionalBool(site, 'unprotect'),
  };
}

function parseCacheKey(site: Site): { key: string; keyFiles?: string[]; keyPrefix?: string } {
  const raw = site.map['key'];
  if (raw === undefined || raw === null) return { key: 'default' };
  if (typeof raw === 'string' || typeof raw === 'number') return { key: String(raw) };
  if (!isMap(raw)) {
    keyError(site, 'key', 'config should be a hash, a string or a symbol');
    return { key: 'default' };
  }
  return parseKeyHash(childSite(site, 'key', raw), raw);
}

function parseKeyHash(site: Site, raw: RawMap): { key: string; keyFiles?: string[]; keyPrefix?: string } {
  checkKeys(site, ['files', 'prefix']);
  const files = stringList(site, 'files');
  if (files.length === 0 || files.length > 2)
    keyError(site, 'files', 'config has to be an array of one or two strings');
  const prefix = raw['prefix'];
  if (prefix !== undefined && typeof prefix !== 'string')
    keyError(site, 'prefix', 'config should be a string');
  return { key: 'default', keyFiles: files, ...(typeof prefix === 'string' ? { keyPrefix: prefix } : {}) };
}
