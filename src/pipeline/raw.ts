/** Helpers for the untyped values that come out of YAML, before validation. */

export type RawMap = Record<string, unknown>;

const REFERENCE = Symbol('flotilla.reference');

/** A `!reference [a, b]` tag, resolved after includes and `extends`. */
export interface ReferenceTag {
  readonly [REFERENCE]: true;
  readonly path: string[];
}

/** A prototype-less object, so hostile keys such as `__proto__` stay plain data. */
export function newMap(): RawMap {
  return Object.create(null) as RawMap;
}

export function createReference(path: string[]): ReferenceTag {
  return { [REFERENCE]: true, path };
}

export function isReference(value: unknown): value is ReferenceTag {
  return typeof value === 'object' && value !== null && REFERENCE in value;
}

export function isMap(value: unknown): value is RawMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isReference(value);
}

export function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** A string or an array of strings, as an array; null when the value is neither. */
export function stringOrArray(value: unknown): string[] | null {
  if (typeof value === 'string') return [value];
  return isStringArray(value) ? value : null;
}

export function hasKey(map: RawMap, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(map, key);
}

/** Deep copy of a raw value (maps stay prototype-less, references stay shared: they are immutable). */
export function cloneRaw(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneRaw);
  if (!isMap(value)) return value;
  const out = newMap();
  for (const [k, v] of Object.entries(value)) out[k] = cloneRaw(v);
  return out;
}
