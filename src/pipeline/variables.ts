import { keyError, type Site } from './report.js';
import { isMap, isScalar, type RawMap } from './raw.js';
import type { JobVariableDefinition } from './types.js';

export interface ExpandOptions {
  /** Keep `$NAME` as written when NAME is not defined (GitLab's server-side behaviour; default true). */
  keepUnknown?: boolean;
}

const VARIABLE_REF = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Expands `$VAR` and `${VAR}` in `text` from `vars`; `$$` gives a literal `$`. One pass only:
 * values put in are never expanded again (GitLab's no-recursion rule), so `A=$B` with `B=$A` is safe.
 */
export function expandVariables(
  text: string,
  vars: Record<string, string>,
  options: ExpandOptions = {},
): string {
  const keep = options.keepUnknown ?? true;
  return text.replace(VARIABLE_REF, (whole, braced: string | undefined, plain: string | undefined) => {
    const name = braced ?? plain;
    if (name === undefined) return '$';
    const value = Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;
    if (value !== undefined) return value;
    return keep ? whole : '';
  });
}

/** A list of variable definitions as a lookup table; later entries win. */
export function variablesToRecord(defs: readonly JobVariableDefinition[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const d of defs) out[d.key] = d.value;
  return out;
}

/** Merges tables left to right (later wins) into a fresh prototype-less record. */
export function mergeVariables(...tables: Record<string, string>[]): Record<string, string> {
  return Object.assign(Object.create(null) as Record<string, string>, ...tables);
}

const VARIABLES_SHAPE = 'config should be a hash of key value pairs, value can be a hash';
const HASH_KEYS = ['value', 'description', 'expand', 'options'];

/**
 * Validates `variables` (`site.map[key]`): scalars become strings, the hash form
 * `{value, description, expand, options}` is unwrapped. Reports and returns [] when invalid.
 */
export function parseVariables(site: Site, key = 'variables'): JobVariableDefinition[] {
  const raw = site.map[key];
  if (raw === undefined || raw === null) return [];
  if (!isMap(raw)) {
    keyError(site, key, VARIABLES_SHAPE);
    return [];
  }
  const out: JobVariableDefinition[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const def = parseOne(site, key, name, value);
    if (def) out.push(def);
  }
  return out;
}

function parseOne(site: Site, key: string, name: string, value: unknown): JobVariableDefinition | null {
  if (value === null) return { key: name, value: '', expand: true };
  if (isScalar(value)) return { key: name, value: String(value), expand: true };
  if (!isMap(value)) {
    keyError(site, key, VARIABLES_SHAPE);
    return null;
  }
  return parseHashForm(site, key, name, value);
}

function parseHashForm(site: Site, key: string, name: string, value: RawMap): JobVariableDefinition | null {
  const unknown = Object.keys(value).filter((k) => !HASH_KEYS.includes(k));
  if (unknown.length > 0) {
    keyError(site, `${key}:${name}`, `config contains unknown keys: ${unknown.join(', ')}`);
    return null;
  }
  const v = value['value'] ?? '';
  if (!isScalar(v)) {
    keyError(site, `${key}:${name}`, 'value should be a string');
    return null;
  }
  if (value['expand'] !== undefined && typeof value['expand'] !== 'boolean') {
    keyError(site, `${key}:${name}`, 'expand should be a boolean value');
  }
  const options = value['options'];
  if (
    options !== undefined &&
    (!Array.isArray(options) || !options.every(isScalar) || !options.map(String).includes(String(v)))
  ) {
    keyError(site, `${key}:${name}`, 'config value must be present in options');
  }
  return { key: name, value: String(v), expand: value['expand'] !== false };
}
