import { addError, type Diagnostics } from './diagnostics.js';
import { copyPositions, keyPositionOf, positionOf } from './positions.js';
import { hasKey, isMap, isStringArray, newMap, type RawMap } from './raw.js';

export const DEFAULT_STAGES = ['build', 'test', 'deploy'];
export const ROOT_KEYWORDS = [
  'default',
  'include',
  'stages',
  'variables',
  'workflow',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
];
/** Global keywords GitLab still accepts outside `default:` (deprecated): they act as defaults. */
const GLOBAL_DEFAULT_KEYS = ['image', 'services', 'cache', 'before_script', 'after_script'];
export const DEFAULT_KEYS = [
  'after_script',
  'artifacts',
  'before_script',
  'cache',
  'hooks',
  'image',
  'interruptible',
  'retry',
  'services',
  'tags',
  'timeout',
];

/** `stages`, with `.pre` first and `.post` last always. */
export function parseStages(root: RawMap, diag: Diagnostics): string[] {
  const raw = root['stages'];
  let stages = DEFAULT_STAGES;
  if (raw !== undefined && raw !== null) {
    if (isStringArray(raw)) stages = raw;
    else
      addError(diag, 'stages', 'stages config should be an array of strings', keyPositionOf(root, 'stages'));
  }
  const middle = [...new Set(stages.filter((s) => s !== '.pre' && s !== '.post'))];
  return ['.pre', ...middle, '.post'];
}

/** Job entries: top-level keys that are not keywords and not hidden (`.name`). */
export function jobEntries(root: RawMap, diag: Diagnostics): [string, RawMap][] {
  const out: [string, RawMap][] = [];
  for (const [name, value] of Object.entries(root)) {
    if (ROOT_KEYWORDS.includes(name) || name.startsWith('.')) continue;
    if (isMap(value)) out.push([name, value]);
    else addError(diag, `jobs:${name}`, `jobs:${name} config should be a hash`, keyPositionOf(root, name));
  }
  return out;
}

/** `default:` merged over the deprecated global forms; reports unknown keys. */
export function parseDefault(root: RawMap, diag: Diagnostics): RawMap {
  const out = newMap();
  for (const key of GLOBAL_DEFAULT_KEYS) if (hasKey(root, key)) out[key] = root[key];
  const raw = root['default'];
  if (raw === undefined || raw === null) return out;
  if (!isMap(raw)) {
    addError(diag, 'default', 'default config should be a hash', keyPositionOf(root, 'default'));
    return out;
  }
  const unknown = Object.keys(raw).filter((k) => !DEFAULT_KEYS.includes(k));
  if (unknown.length > 0)
    addError(diag, 'default', `default config contains unknown keys: ${unknown.join(', ')}`, positionOf(raw));
  for (const key of DEFAULT_KEYS) if (hasKey(raw, key)) out[key] = raw[key];
  copyPositions(root, out, GLOBAL_DEFAULT_KEYS);
  copyPositions(raw, out, DEFAULT_KEYS);
  return out;
}

export interface Inherit {
  /** Default keywords the job takes. */
  defaults: string[];
  /** null: every global variable; else only these names. */
  variables: string[] | null;
}

/** `inherit: { default: bool | [keys], variables: bool | [names] }`. */
export function parseInherit(job: RawMap, jobPath: string, diag: Diagnostics): Inherit {
  const raw = job['inherit'];
  const all: Inherit = { defaults: DEFAULT_KEYS, variables: null };
  if (raw === undefined || raw === null) return all;
  const pos = keyPositionOf(job, 'inherit');
  if (!isMap(raw)) {
    addError(diag, `${jobPath}:inherit`, `${jobPath}:inherit config should be a hash`, pos);
    return all;
  }
  const unknown = Object.keys(raw).filter((k) => k !== 'default' && k !== 'variables');
  if (unknown.length > 0)
    addError(
      diag,
      `${jobPath}:inherit`,
      `${jobPath}:inherit config contains unknown keys: ${unknown.join(', ')}`,
      pos,
    );
  const defaults = inheritList(raw['default'], DEFAULT_KEYS, `${jobPath}:inherit:default`, diag, pos);
  const variables =
    raw['variables'] === undefined || raw['variables'] === true
      ? null
      : inheritList(raw['variables'], [], `${jobPath}:inherit:variables`, diag, pos);
  return { defaults, variables };
}

function inheritList(
  value: unknown,
  all: string[],
  path: string,
  diag: Diagnostics,
  pos: ReturnType<typeof positionOf>,
): string[] {
  if (value === undefined || value === true) return all;
  if (value === false) return [];
  if (isStringArray(value)) return value;
  addError(diag, path, `${path} config should be a boolean value or an array of strings`, pos);
  return all;
}

/** The job with the `default:` keywords it inherits and does not set itself. */
export function applyDefaults(job: RawMap, defaults: RawMap, inherit: Inherit): RawMap {
  if (hasKey(job, 'trigger')) return job;
  const out = newMap();
  Object.assign(out, job);
  copyPositions(job, out, Object.keys(job));
  for (const key of inherit.defaults) {
    if (hasKey(job, key) || !hasKey(defaults, key)) continue;
    out[key] = defaults[key];
    copyPositions(defaults, out, [key]);
  }
  return out;
}
