import { addError, type Diagnostics } from './diagnostics.js';
import { LIMITS } from './limits.js';
import { deepMerge } from './merge.js';
import { keyPositionOf } from './positions.js';
import { hasKey, isMap, newMap, stringOrArray, type RawMap } from './raw.js';
import { copyPositions } from './positions.js';
import { ROOT_KEYWORDS } from './root.js';

interface ExtendsState {
  root: RawMap;
  diag: Diagnostics;
  resolved: Map<string, RawMap>;
  failed: Set<string>;
}

/**
 * Resolves `extends` of every job and hidden job: parents (resolved first) are deep-merged in
 * order, then the job itself; GitLab's depth limit (11) and cycle detection, GitLab's messages.
 */
export function resolveExtends(root: RawMap, diag: Diagnostics): RawMap {
  const state: ExtendsState = { root, diag, resolved: new Map(), failed: new Set() };
  const out = newMap();
  copyPositions(root, out, Object.keys(root));
  for (const [key, value] of Object.entries(root)) {
    const isJob = !ROOT_KEYWORDS.includes(key) && isMap(value) && hasKey(value, 'extends');
    out[key] = isJob ? (resolveEntry(state, key, []) ?? value) : value;
  }
  return out;
}

function fail(state: ExtendsState, key: string, message: string): null {
  if (!state.failed.has(key))
    addError(
      state.diag,
      `jobs:${key}:extends`,
      `${key}: ${message}`,
      keyPositionOf(state.root[key], 'extends'),
    );
  state.failed.add(key);
  return null;
}

function resolveEntry(state: ExtendsState, key: string, chain: string[]): RawMap | null {
  const cached = state.resolved.get(key);
  if (cached) return cached;
  const value = state.root[key];
  if (!isMap(value)) return null;
  if (!hasKey(value, 'extends')) return value;
  if (chain.includes(key)) return fail(state, key, 'circular dependency detected in `extends`');
  if (chain.length >= LIMITS.maxExtendsDepth)
    return fail(state, chain[0] ?? key, 'nested `extends` is too deep');
  const parents = stringOrArray(value['extends']);
  if (!parents) return fail(state, key, 'invalid extends value (should be a string or an array of strings)');
  const unknown = parents.filter((p) => !isMap(state.root[p]) || ROOT_KEYWORDS.includes(p));
  if (unknown.length > 0) return fail(state, key, `unknown keys in \`extends\` (${unknown.join(', ')})`);
  let merged = newMap();
  for (const parent of parents) {
    const base = resolveEntry(state, parent, [...chain, key]);
    if (!base) return null;
    merged = deepMerge(merged, base);
  }
  const own = newMap();
  copyPositions(value, own, Object.keys(value));
  for (const [k, v] of Object.entries(value)) if (k !== 'extends') own[k] = v;
  const result = deepMerge(merged, own);
  delete result['extends'];
  state.resolved.set(key, result);
  return result;
}
