import { addError, type Diagnostics } from './diagnostics.js';
import { LIMITS } from './limits.js';
import { copyPositions, mapWithPositions, positionOf } from './positions.js';
import { hasKey, isMap, isReference, newMap, type RawMap, type ReferenceTag } from './raw.js';

interface RefState {
  root: RawMap;
  diag: Diagnostics;
  /** Values produced so far: references can multiply like aliases, so they share the budget. */
  nodes: number;
}

/** Replaces every `!reference [key, sub, ...]` with the value it names (resolved, nested, cycle-checked). */
export function resolveReferences(root: RawMap, diag: Diagnostics): RawMap {
  const state: RefState = { root, diag, nodes: 0 };
  return resolveValue(state, root, []) as RawMap;
}

function describe(ref: ReferenceTag): string {
  return `!reference [${ref.path.map((p) => JSON.stringify(p)).join(', ')}]`;
}

function resolveValue(state: RefState, value: unknown, chain: string[]): unknown {
  state.nodes += 1;
  if (state.nodes === LIMITS.maxNodes)
    addError(state.diag, 'root', 'The parsed YAML is too big (!reference tags expand to too many values)');
  if (state.nodes >= LIMITS.maxNodes) return null;
  if (isReference(value)) return resolveReference(state, value, chain);
  if (Array.isArray(value)) {
    return mapWithPositions(value, (v) => resolveValue(state, v, chain));
  }
  if (!isMap(value)) return value;
  const out = newMap();
  copyPositions(value, out, Object.keys(value));
  for (const [k, v] of Object.entries(value)) out[k] = resolveValue(state, v, chain);
  return out;
}

function resolveReference(state: RefState, ref: ReferenceTag, chain: string[]): unknown {
  const id = ref.path.join('\u0000');
  const pos = positionOf(ref);
  if (chain.includes(id)) {
    addError(state.diag, 'root', `${describe(ref)} is part of a circular chain`, pos);
    return null;
  }
  if (chain.length >= LIMITS.maxReferenceDepth) {
    addError(
      state.diag,
      'root',
      `${describe(ref)} is nested too deeply (over ${LIMITS.maxReferenceDepth} levels)`,
      pos,
    );
    return null;
  }
  let target: unknown = state.root;
  for (const segment of ref.path) {
    if (!isMap(target) || !hasKey(target, segment)) {
      addError(state.diag, 'root', `${describe(ref)} could not be found`, pos);
      return null;
    }
    target = target[segment];
  }
  return resolveValue(state, target, [...chain, id]);
}
