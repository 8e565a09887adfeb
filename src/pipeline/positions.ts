import type { SourcePosition } from './types.js';

/**
 * Source positions of parsed YAML values, kept beside the values (keyed by object identity) so
 * that merges and `extends` can carry them along and every error can name its file:line:column.
 */
interface NodeInfo {
  pos: SourcePosition;
  keys: Map<string, SourcePosition>;
}

const registry = new WeakMap<object, NodeInfo>();

function infoOf(target: object, pos: SourcePosition): NodeInfo {
  let info = registry.get(target);
  if (!info) {
    info = { pos, keys: new Map() };
    registry.set(target, info);
  }
  return info;
}

export function recordPosition(target: object, pos: SourcePosition): void {
  infoOf(target, pos).pos = pos;
}

/** Records where `key` (or array index) of `target` was written. */
export function recordKeyPosition(target: object, key: string, pos: SourcePosition): void {
  infoOf(target, pos).keys.set(key, pos);
}

export function positionOf(target: unknown): SourcePosition | undefined {
  return typeof target === 'object' && target !== null ? registry.get(target)?.pos : undefined;
}

/** Where `key` of `target` was written; the position of `target` itself when unknown. */
export function keyPositionOf(target: unknown, key: string): SourcePosition | undefined {
  if (typeof target !== 'object' || target === null) return undefined;
  const info = registry.get(target);
  return info?.keys.get(key) ?? info?.pos;
}

/** Copies the position of `key` from `from` to `to` (used when values are merged). */
export function copyKeyPosition(from: unknown, to: object, key: string): void {
  if (typeof from !== 'object' || from === null) return;
  const info = registry.get(from);
  const pos = info?.keys.get(key);
  if (pos) recordKeyPosition(to, key, pos);
  else if (info && !registry.has(to)) recordPosition(to, info.pos);
}

/** Gives `to` the node position of `from` when `to` has none yet. */
export function inheritPosition(from: unknown, to: object): void {
  const pos = positionOf(from);
  if (pos && !registry.has(to)) recordPosition(to, pos);
}

/** "at .gitlab-ci.yml:12:5" */
export function formatPosition(pos: SourcePosition | undefined): string {
  return pos ? `at ${pos.file}:${pos.line}:${pos.column}` : '';
}

/** Gives `to` the node position of `from` and the positions of the listed keys. */
export function copyPositions(from: unknown, to: object, keys: readonly string[]): void {
  inheritPosition(from, to);
  for (const key of keys) copyKeyPosition(from, to, key);
}

/** `list.map(fn)` that keeps the positions of the list and of each item. */
export function mapWithPositions(list: readonly unknown[], fn: (item: unknown) => unknown): unknown[] {
  const out = list.map(fn);
  copyPositions(
    list,
    out,
    list.map((_, i) => String(i)),
  );
  return out;
}
