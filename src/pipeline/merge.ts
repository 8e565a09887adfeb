import { copyPositions } from './positions.js';
import { isMap, newMap, type RawMap } from './raw.js';

/**
 * GitLab's deep merge: hashes merge key by key (the override wins), everything else, arrays
 * included, is replaced. Inputs are not modified; positions follow the value that won.
 */
export function deepMerge(base: RawMap, override: RawMap): RawMap {
  const out = newMap();
  copyPositions(override, out, []);
  for (const [key, value] of Object.entries(base)) {
    out[key] = value;
    copyPositions(base, out, [key]);
  }
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isMap(current) && isMap(value) ? deepMerge(current, value) : value;
    copyPositions(override, out, [key]);
  }
  return out;
}
