import type { RefUpdate } from './git-host.js';
import { zeroIdLike } from './repo-paths.js';

/** ref name → object id. */
export type RefSnapshot = ReadonlyMap<string, string>;

/** Parses `git for-each-ref --format='%(objectname) %(refname)'` output. */
export function parseRefList(output: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    refs.set(line.slice(space + 1), line.slice(0, space));
  }
  return refs;
}

/** The refs that differ between two snapshots, sorted by name; absent sides are all zeros. */
export function diffRefSnapshots(before: RefSnapshot, after: RefSnapshot): RefUpdate[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  const updates: RefUpdate[] = [];
  for (const ref of [...names].sort()) {
    const old = before.get(ref);
    const now = after.get(ref);
    if (old === now) continue;
    const sample = old ?? now ?? '';
    updates.push({ ref, before: old ?? zeroIdLike(sample), after: now ?? zeroIdLike(sample) });
  }
  return updates;
}
