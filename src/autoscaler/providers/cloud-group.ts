/**
 * What the cloud providers (gce, digitalocean, aws) do alike around their own API calls: the group
 * name from the config or the runner name, `increase` as parallel creations with partial success
 * and `max_size`, and `decrease` as parallel deletions that resolve what was deleted.
 */
import type { Logger } from '../../shared/logger.js';
import { ProviderError } from './provider.js';

/** The group name: `name` when set, else the runner name shortened to 12 of [a-z0-9]. PURE. */
export function cloudGroupName(name: string | undefined, runnerName: string): string {
  if (name) return name;
  const s = runnerName.toLowerCase().replace(/[^a-z0-9]/g, '');
  const g = /^[a-z]/.test(s) ? s : `r${s}`;
  return g.slice(0, 12) || 'fleet';
}

/**
 * Starts `count` creations (fewer when `maxSize` > 0 and `existing()` leaves less room); resolves
 * the ids created; throws the first failure only when nothing was created.
 */
export async function createMany(o: {
  count: number;
  maxSize: number;
  group: string;
  existing: () => Promise<number>;
  createOne: () => Promise<string>;
  logger: Logger;
}): Promise<string[]> {
  const n = o.maxSize > 0 ? Math.min(o.count, o.maxSize - (await o.existing())) : o.count;
  if (n <= 0) throw new ProviderError('capacity', `group ${o.group} is full (max_size ${o.maxSize})`);
  const results = await Promise.allSettled(Array.from({ length: n }, () => o.createOne()));
  const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  for (const err of failures) o.logger.warn({ err }, 'machine creation failed');
  const first = failures[0];
  if (created.length === 0 && first !== undefined)
    throw first instanceof ProviderError ? first : new ProviderError('api', String(first));
  return created;
}

/** Deletes `ids` in parallel; resolves those deleted, logs the others. */
export async function removeMany(
  ids: readonly string[],
  removeOne: (id: string) => Promise<string>,
  logger: Logger,
): Promise<string[]> {
  const results = await Promise.allSettled(ids.map(removeOne));
  for (const r of results)
    if (r.status === 'rejected') logger.warn({ err: r.reason as unknown }, 'machine deletion failed');
  return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}
