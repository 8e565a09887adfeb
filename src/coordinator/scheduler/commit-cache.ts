/**
 * Commits never change, so their details are read from git once: every job of a pipeline needs
 * them for its predefined variables, and a git process per job request is the largest cost of a
 * claim otherwise.
 */
import type { CommitInfo, RepositoryReader } from './repository.js';

export function withCommitCache<T extends RepositoryReader>(repos: T, maxEntries = 2000): T {
  const cache = new Map<string, Promise<CommitInfo | null>>();
  const commitInfo = (fullPath: string, sha: string): Promise<CommitInfo | null> => {
    const key = `${fullPath}@${sha}`;
    let hit = cache.get(key);
    if (!hit) {
      hit = repos.commitInfo(fullPath, sha);
      // A failed or missing read is not remembered: the commit may arrive with a later push.
      hit.then(
        (info) => info ?? cache.delete(key),
        () => cache.delete(key),
      );
      cache.set(key, hit);
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    }
    return hit;
  };
  return new Proxy(repos, {
    get(target, prop, receiver) {
      if (prop === 'commitInfo') return commitInfo;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
