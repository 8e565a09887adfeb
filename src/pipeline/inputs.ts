import { addError, type Diagnostics } from './diagnostics.js';
import { copyPositions, mapWithPositions, positionOf } from './positions.js';
import { isMap, isScalar, newMap, type RawMap } from './raw.js';
import { compileRegex } from './re2.js';

export type InputValue = string | number | boolean | string[];

const SPEC_KEYS = ['default', 'type', 'options', 'regex', 'description'];
const TYPES = ['string', 'number', 'boolean', 'array'];
const INTERPOLATION = /\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*(\|[^\]]*)?\]\]/g;

/**
 * `spec:inputs` of a file header checked against the given values (defaults applied, types,
 * options and regex checked). Returns the values to interpolate, or null after reporting errors.
 */
export function resolveInputs(
  spec: unknown,
  given: Record<string, unknown>,
  file: string,
  diag: Diagnostics,
): Record<string, InputValue> | null {
  const declared = isMap(spec) && isMap(spec['inputs']) ? spec['inputs'] : newMap();
  const before = diag.errors.length;
  const unknown = Object.keys(given).filter((k) => !(k in declared));
  if (unknown.length > 0)
    addError(diag, 'include', `${file}: unknown input arguments: ${unknown.join(', ')}`, positionOf(spec));
  const out: Record<string, InputValue> = {};
  for (const [name, def] of Object.entries(declared)) {
    const value = inputValue(name, isMap(def) ? def : newMap(), given[name], file, diag);
    if (value !== null) out[name] = value;
  }
  return diag.errors.length > before ? null : out;
}

function inputValue(
  name: string,
  def: RawMap,
  given: unknown,
  file: string,
  diag: Diagnostics,
): InputValue | null {
  const problem = (text: string): null => {
    addError(diag, 'include', `${file}: \`${name}\` input: ${text}`, positionOf(def));
    return null;
  };
  const unknownKeys = Object.keys(def).filter((k) => !SPEC_KEYS.includes(k));
  if (unknownKeys.length > 0) return problem(`unknown input specification keys: ${unknownKeys.join(', ')}`);
  const value = given === undefined ? def['default'] : given;
  if (value === undefined || value === null) return problem('required value has not been provided');
  const type = typeof def['type'] === 'string' ? def['type'] : 'string';
  if (!TYPES.includes(type)) return problem(`unknown input type \`${type}\``);
  if (!hasType(value, type)) return problem(`provided value is not a ${type}`);
  if (Array.isArray(def['options']) && !def['options'].map(String).includes(String(value))) {
    return problem(`\`${String(value)}\` cannot be used because it is not in the list of allowed options`);
  }
  if (typeof def['regex'] === 'string' && !matchesSlashless(def['regex'], String(value))) {
    return problem('provided value does not match required RegEx pattern');
  }
  return value as InputValue;
}

function hasType(value: unknown, type: string): boolean {
  if (type === 'array') return Array.isArray(value);
  if (type === 'number') return typeof value === 'number';
  if (type === 'boolean') return typeof value === 'boolean';
  return typeof value === 'string';
}

/** The input's `regex`, RE2 semantics and linear time (a bad pattern never matches). */
function matchesSlashless(regex: string, value: string): boolean {
  const source = /^\/(.*)\/$/s.exec(regex)?.[1] ?? regex;
  try {
    return compileRegex(source).test(value);
  } catch {
    return false;
  }
}

/** Replaces `$[[ inputs.name ]]` in keys and strings; a string that is only one interpolation keeps the input's type. */
export function interpolate(
  value: unknown,
  inputs: Record<string, InputValue>,
  file: string,
  diag: Diagnostics,
): unknown {
  if (typeof value === 'string') return interpolateString(value, inputs, file, diag);
  if (Array.isArray(value)) {
    return mapWithPositions(value, (v) => interpolate(v, inputs, file, diag));
  }
  if (!isMap(value)) return value;
  const out = newMap();
  copyPositions(value, out, []);
  for (const [k, v] of Object.entries(value)) {
    const key = String(interpolateString(k, inputs, file, diag));
    out[key] = interpolate(v, inputs, file, diag);
    copyPositions(value, out, [k]);
  }
  return out;
}

function interpolateString(
  text: string,
  inputs: Record<string, InputValue>,
  file: string,
  diag: Diagnostics,
): unknown {
  const whole = /^\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]$/.exec(text);
  if (whole?.[1] !== undefined && whole[1] in inputs) return inputs[whole[1]];
  return text.replace(INTERPOLATION, (match, name: string, fn: string | undefined) => {
    if (fn) {
      addError(diag, 'include', `${file}: interpolation functions are not supported here: ${match}`);
      return match;
    }
    const v = inputs[name];
    if (v === undefined) {
      addError(diag, 'include', `${file}: unknown interpolation key: \`${name}\``);
      return match;
    }
    return Array.isArray(v) ? JSON.stringify(v) : isScalar(v) ? String(v) : '';
  });
}
