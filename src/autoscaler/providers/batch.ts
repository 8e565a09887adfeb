/**
 * The steps that the providers share: how many machines fit, creating or removing several at once,
 * what a batch that created nothing throws, and the error of a provider used before `init`.
 */
import type { Logger } from '../../shared/logger.js';
import { ProviderError } from './provider.js';

/**
 * How many of `count` new machines fit under `maxSize` (0 = no limit; only then is
 * `countExisting` not asked); throws `capacity` when none does.
 */
export async function roomFor(
  count: number,
  maxSize: number,
  group: string,
  countExisting: () => Promise<number>,
): Promise<number> {
  const n = maxSize > 0 ? Math.min(count, maxSize - (await countExisting())) : count;
  if (n <= 0) throw new ProviderError('capacity', `group ${group} is full (max_size ${maxSize})`);
  return n;
}

/** Waits for every promise: the values of those fulfilled and the reasons of those rejected. */
export async function settleAll<T>(work: readonly Promise<T>[]): Promise<{ done: T[]; failures: unknown[] }> {
  const results = await Promise.allSettled(work);
  return {
    done: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    failures: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
  };
}

/** When a batch created nothing: throws its first failure, as a ProviderError (`api` if it was not one). */
export function throwIfNoneCreated(created: readonly unknown[], failures: readonly unknown[]): void {
  const first = failures[0];
  if (created.length === 0 && first !== undefined)
    throw first instanceof ProviderError ? first : new ProviderError('api', String(first));
}

/**
 * Creates at once as many of `count` machines as fit (see `roomFor`), gives each failure to
 * `onFailure`, then throws as `throwIfNoneCreated`; resolves the ids created.
 */
export async function createUpTo(
  count: number,
  maxSize: number,
  group: string,
  countExisting: () => Promise<number>,
  createOne: () => Promise<string>,
  onFailure: (err: unknown) => void = () => {},
): Promise<string[]> {
  const n = await roomFor(count, maxSize, group, countExisting);
  const { done, failures } = await settleAll(Array.from({ length: n }, () => createOne()));
  for (const err of failures) onFailure(err);
  throwIfNoneCreated(done, failures);
  return done;
}

/** Removes every id at once; logs each failure with `message` and resolves the ids removed. */
export async function removeEach(
  ids: readonly string[],
  remove: (id: string) => Promise<string>,
  logger: Logger,
  message: string,
): Promise<string[]> {
  const { done, failures } = await settleAll(ids.map(remove));
  for (const err of failures) logger.warn({ err }, message);
  return done;
}

/** How a cloud provider deletes one machine: where it is, the call, and what it remembers of it. */
export interface LocatedDeletion<W> {
  /** Where the machine is (its id or zone); null when the provider no longer lists it. */
  locate(name: string): Promise<W | null>;
  remove(where: W, name: string): Promise<unknown>;
  /** Names being deleted, which the listing reports as `deleting`. */
  deleting: Set<string>;
  /** Drops what the provider remembers of a deleted machine. */
  forget(name: string): void;
}

/** Deletes machine `name` (already gone when it is not found); resolves its name once deleted. */
async function deleteLocated<W>(name: string, d: LocatedDeletion<W>): Promise<string> {
  const where = await d.locate(name);
  if (where === null) return name;
  d.deleting.add(name);
  try {
    await d.remove(where, name);
  } finally {
    d.deleting.delete(name);
  }
  d.forget(name);
  return name;
}

/** `decrease` of a cloud group: deletes each machine where it is; resolves the names deleted. */
export function removeLocated<W>(
  names: readonly string[],
  d: LocatedDeletion<W>,
  logger: Logger,
  message: string,
): Promise<string[]> {
  return removeEach(names, (name) => deleteLocated(name, d), logger, message);
}

/** Throws: provider `name` was used before its `init`. */
export function usedBeforeInit(name: string): never {
  throw new Error(`${name} provider used before init`);
}

/** A cloud group's name: `name` when set, else the runner name shortened to 12 of [a-z0-9]. PURE. */
export function cloudGroupName(name: string | undefined, runnerName: string): string {
  if (name) return name;
  const s = runnerName.toLowerCase().replace(/[^a-z0-9]/g, '');
  const g = /^[a-z]/.test(s) ? s : `r${s}`;
  return g.slice(0, 12) || 'fleet';
}
