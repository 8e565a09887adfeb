import { checkKeys, childSite, keyError, type Site } from './report.js';
import { isMap, isStringArray } from './raw.js';

const SCRIPT_SHAPE = 'config should be a string or a nested array of strings up to 10 levels deep';
const MAX_SCRIPT_NESTING = 10;

function flatten(value: unknown, depth: number, out: string[]): boolean {
  if (typeof value === 'string') {
    out.push(value);
    return true;
  }
  if (!Array.isArray(value) || depth > MAX_SCRIPT_NESTING) return false;
  return value.every((item) => flatten(item, depth + 1, out));
}

/** `script`-like keywords: a string or nested arrays of strings, flattened. null when absent. */
export function parseScript(site: Site, key: string): string[] | null {
  const raw = site.map[key];
  if (raw === undefined) return null;
  const out: string[] = [];
  if (raw === null || !flatten(raw, 1, out)) {
    keyError(site, key, SCRIPT_SHAPE);
    return [];
  }
  return out;
}

/** `hooks: { pre_get_sources_script }` → the flattened script. */
export function parseHooks(site: Site): string[] {
  const raw = site.map['hooks'];
  if (raw === undefined || raw === null) return [];
  if (!isMap(raw)) {
    keyError(site, 'hooks', 'config should be a hash');
    return [];
  }
  const hooks = childSite(site, 'hooks', raw);
  checkKeys(hooks, ['pre_get_sources_script']);
  return parseScript(hooks, 'pre_get_sources_script') ?? [];
}

/** `tags`: an array of strings (a single string is accepted too). */
export function parseTags(site: Site): string[] {
  const raw = site.map['tags'];
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return [raw];
  if (!isStringArray(raw)) {
    keyError(site, 'tags', 'config should be an array of strings');
    return [];
  }
  return raw;
}

/** An optional string keyword (`resource_group`, `coverage`, `stage`...). */
export function parseOptionalString(site: Site, key: string): string | null {
  const raw = site.map[key];
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'string') {
    keyError(site, key, 'config should be a string');
    return null;
  }
  return raw;
}

/** An optional boolean keyword (`interruptible`). */
export function parseBoolean(site: Site, key: string, fallback: boolean): boolean {
  const raw = site.map[key];
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'boolean') {
    keyError(site, key, 'config should be a boolean value');
    return fallback;
  }
  return raw;
}

/** `coverage: /regex/` → the regex source between the slashes. */
export function parseCoverage(site: Site): string | null {
  const raw = parseOptionalString(site, 'coverage');
  if (raw === null) return null;
  const m = /^\/(.+)\/$/s.exec(raw);
  if (!m?.[1]) {
    keyError(site, 'coverage', 'config must be a regular expression');
    return null;
  }
  return m[1];
}
