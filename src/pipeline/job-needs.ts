import { LIMITS } from './limits.js';
import { keyError, siteError, type Site } from './report.js';
import { isMap, isStringArray } from './raw.js';
import { parseMatrix, type MatrixEntry } from './parallel.js';

/** One `needs` entry before job names are checked; `matrix` picks instances of a matrix job. */
export interface NeedRef {
  job: string;
  artifacts: boolean;
  optional: boolean;
  matrix: MatrixEntry[] | null;
}

const NEED_KEYS = ['job', 'artifacts', 'optional', 'parallel'];
const NOT_HERE = ['project', 'pipeline', 'ref'];

/** `needs`: null when absent (stage ordering), else the listed jobs (`[]` starts at once). */
export function parseNeeds(site: Site, key = 'needs'): NeedRef[] | null {
  const raw = site.map[key];
  if (raw === undefined) return null;
  if (raw === null) return [];
  if (!Array.isArray(raw)) {
    keyError(site, key, 'config can only be an array');
    return null;
  }
  if (raw.length > LIMITS.maxNeeds) {
    siteError(
      site,
      `one job can only need ${LIMITS.maxNeeds} others, but you have listed ${raw.length}. See needs keyword documentation for more details`,
    );
  }
  const out: NeedRef[] = [];
  for (const item of raw) {
    const need = parseOneNeed(site, key, item);
    if (need) out.push(need);
  }
  return out;
}

function parseOneNeed(site: Site, key: string, item: unknown): NeedRef | null {
  if (typeof item === 'string') return { job: item, artifacts: true, optional: false, matrix: null };
  if (!isMap(item)) {
    keyError(site, key, 'config should be a string or a hash');
    return null;
  }
  const crossProject = NOT_HERE.filter((k) => item[k] !== undefined);
  if (crossProject.length > 0) {
    keyError(
      site,
      key,
      `cross-project and parent pipeline needs (${crossProject.join(', ')}) are not supported here`,
    );
    return null;
  }
  const unknown = Object.keys(item).filter((k) => !NEED_KEYS.includes(k));
  if (unknown.length > 0)
    keyError(site, `${key}:need`, `config contains unknown keys: ${unknown.join(', ')}`);
  if (typeof item['job'] !== 'string') {
    keyError(site, `${key}:need`, 'job config should be a string');
    return null;
  }
  return {
    job: item['job'],
    artifacts: flag(site, key, item['artifacts'], 'artifacts', true),
    optional: flag(site, key, item['optional'], 'optional', false),
    matrix: needMatrix(site, key, item['parallel']),
  };
}

function flag(site: Site, key: string, value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  keyError(site, `${key}:need`, `${name} should be a boolean value`);
  return fallback;
}

function needMatrix(site: Site, key: string, value: unknown): MatrixEntry[] | null {
  if (value === undefined) return null;
  if (!isMap(value) || !Array.isArray(value['matrix'])) {
    keyError(site, `${key}:need`, 'parallel config should contain a matrix');
    return null;
  }
  return parseMatrix({ diag: site.diag, path: `${site.path}:${key}:parallel`, map: value }, value['matrix']);
}

/** `dependencies`: null when absent, else job names. */
export function parseDependencies(site: Site): string[] | null {
  const raw = site.map['dependencies'];
  if (raw === undefined) return null;
  if (raw === null) return [];
  if (!isStringArray(raw)) {
    keyError(site, 'dependencies', 'config should be an array of strings');
    return null;
  }
  return raw;
}
