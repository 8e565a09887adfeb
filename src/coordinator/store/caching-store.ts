/**
 * Caches in front of the Store for what nearly every request reads: the runner of a runner token
 * (every Runner-API request), the job of a job token (every trace PATCH and status PUT), and the
 * project, its CI variables and the pipeline's user (every job handed out). Everything else passes
 * through unchanged.
 *
 * Invalidation:
 * - every write of a cached kind through this store drops (or replaces) the entry at once;
 * - with several coordinators on one database, the write is also published on the bus (PostgreSQL
 *   LISTEN/NOTIFY) and the other coordinators drop their entry when it arrives;
 * - entries also expire after `ttlMs`, so a lost notification (the bus reconnecting) leaves an
 *   entry stale for at most that long;
 * - a read that was in flight while its entry was invalidated is not cached (it may have read the
 *   old row).
 *
 * Users have no update or delete path in the store: a found user never changes, so it is cached
 * without expiry (bounded like the other kinds; a user not found is never cached). Every job handed
 * out reads its pipeline's user: with the 10 s expiry, a job now and then read it again (a store
 * call on its request, one round trip on PostgreSQL). A store method that changes or deletes users
 * must drop the entry here, as the other kinds' writes do.
 */
import { JobTokenTable, jobOverrides } from './caching-store-jobs.js';
import type { JobRecord, ProjectRecord, RunnerRecord, Store, UserRecord, VariableRecord } from './store.js';

export type CachedEntity = 'runner' | 'project' | 'variables' | 'job';

/** Id of a `job` message that drops every cached job (a pipeline or project was deleted). */
export const ALL_JOBS = 0;

/** What one coordinator tells the others: drop this entry (id: runner, project or job id). */
export interface CacheMessage {
  kind: 'cache';
  entity: CachedEntity;
  id: number;
}

export interface CacheBus {
  publish(message: CacheMessage): void;
  /**
   * The channel may carry other messages too (the runner queue's); they are ignored, except
   * `{ kind: 'all' }` (messages may have been missed): every cached entry is dropped.
   */
  subscribe(handler: (message: CacheMessage | { kind: string }) => void): void;
}

export interface CachingStoreOptions {
  bus?: CacheBus | undefined;
  /** How long an entry is used at most; default 10 s. */
  ttlMs?: number;
  /** Entries kept per kind at most (the oldest go first); default 10,000. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  at: number;
}

type Matches<K, V> = (key: K, value: V) => boolean;

/** Invalidations remembered for the reads in flight; a read older than all of them is not cached. */
const INVALIDATIONS_KEPT = 256;

/**
 * One kind of entry: a bounded map with expiry, and an epoch that in-flight reads check. A read
 * that started before an invalidation is cached only when that invalidation would not have
 * dropped what it read (`matches` false for its key and row): under 1,000 clients a runner's
 * `contacted_at` write (every few seconds per runner) otherwise kept every other runner's token
 * read in flight from being cached, and on PostgreSQL, where reads take milliseconds, nearly every
 * request read its runner again.
 */
export class Table<K, V> {
  readonly #entries = new Map<K, Entry<V>>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  /** The last invalidations, oldest first: `epoch` is the table's epoch after each. */
  readonly #invalidations: { epoch: number; matches: Matches<K, V> | undefined }[] = [];
  /** Loads in flight by key (see `read`). */
  readonly #loading = new Map<K, Promise<V>>();
  epoch = 0;

  constructor(ttlMs: number, max: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#max = max;
    this.#now = now;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() - entry.at >= this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Caches `value` unless an invalidation since `epoch` was read would have dropped it; says whether it did. */
  set(key: K, value: V, epoch: number): boolean {
    if (epoch !== this.epoch && this.#droppedSince(epoch, key, value)) return false;
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: this.#now() });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return true;
  }

  #droppedSince(epoch: number, key: K, value: V): boolean {
    const kept = this.#invalidations;
    // The invalidations after `epoch` are epoch + 1 … this.epoch; some were forgotten: assume the worst.
    if (kept.length === 0 || (kept[0]?.epoch ?? Infinity) > epoch + 1) return true;
    for (let i = kept.length - 1; i >= 0; i--) {
      const inv = kept[i];
      if (inv === undefined || inv.epoch <= epoch) break;
      if (inv.matches === undefined || inv.matches(key, value)) return true;
    }
    return false;
  }

  /** Drops the entries `matches` picks (all when omitted); reads in flight that it would pick are not cached. */
  invalidate(matches?: Matches<K, V>): void {
    this.epoch++;
    this.#loading.clear();
    this.#invalidations.push({ epoch: this.epoch, matches });
    if (this.#invalidations.length > INVALIDATIONS_KEPT) this.#invalidations.shift();
    for (const [key, entry] of this.#entries) {
      if (matches === undefined || matches(key, entry.value)) this.#entries.delete(key);
    }
  }

  /**
   * The entry, or the row `load` reads. Concurrent misses of one key share one load (a runner's 20
   * clients all missed when its entry expired); an invalidation makes later misses load again.
   */
  read(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const pending = this.#loading.get(key);
    if (pending !== undefined) return pending;
    const epoch = this.epoch;
    const loading = load().then(
      (value) => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
        this.set(key, value, epoch);
        return value;
      },
      (err: unknown) => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
        throw err;
      },
    );
    this.#loading.set(key, loading);
    return loading;
  }
}

function isCacheMessage(message: CacheMessage | { kind: string }): message is CacheMessage {
  return message.kind === 'cache';
}

const DEFAULT_TTL_MS = 10_000;
const DEFAULT_MAX_ENTRIES = 10_000;

class Caches {
  readonly runners: Table<string, RunnerRecord | null>;
  readonly projects: Table<number, ProjectRecord | null>;
  readonly variables: Table<number, VariableRecord[]>;
  readonly users: Table<number, UserRecord | null>;
  /** By token hash; only jobs found, never null (a token is created by its claim). */
  readonly jobs: JobTokenTable;

  constructor(options: CachingStoreOptions) {
    const ttl = options.ttlMs ?? DEFAULT_TTL_MS;
    const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    const now = options.now ?? (() => performance.now());
    this.runners = new Table(ttl, max, now);
    this.projects = new Table(ttl, max, now);
    this.variables = new Table(ttl, max, now);
    // Users never change (see above): no expiry.
    this.users = new Table(Number.POSITIVE_INFINITY, max, now);
    this.jobs = new JobTokenTable(new Table<string, JobRecord>(ttl, max, now), max);
  }

  /** Every entry (the bus may have missed invalidations). */
  dropAll(): void {
    this.runners.invalidate();
    this.projects.invalidate();
    this.variables.invalidate();
    this.users.invalidate();
    this.jobs.dropAll();
  }

  drop(entity: CachedEntity, id: number): void {
    if (entity === 'runner') this.runners.invalidate((_hash, runner) => runner === null || runner.id === id);
    else if (entity === 'project') this.projects.invalidate((key) => key === id);
    else if (entity === 'job') {
      if (id === ALL_JOBS) this.jobs.dropAll();
      else this.jobs.dropId(id);
    } else this.variables.invalidate((key) => key === id);
  }
}

/** `store` with the caches above; `close` and every other method pass through. */
export function cachingStore(store: Store, options: CachingStoreOptions = {}): Store {
  const caches = new Caches(options);
  const bus = options.bus;
  bus?.subscribe((message) => {
    if (isCacheMessage(message)) caches.drop(message.entity, message.id);
    else if (message.kind === 'all') caches.dropAll();
  });
  const changed = (entity: CachedEntity, id: number): void => {
    caches.drop(entity, id);
    bus?.publish({ kind: 'cache', entity, id });
  };
  const after = async <T>(result: Promise<T>, entity: CachedEntity, id: number): Promise<T> => {
    try {
      return await result;
    } finally {
      changed(entity, id);
    }
  };
  const overrides: Partial<Store> = {
    findRunnerByTokenHash: (hash) => caches.runners.read(hash, () => store.findRunnerByTokenHash(hash)),
    createRunner: async (input) => {
      const runner = await store.createRunner(input);
      // A token looked up before it existed was cached as unknown (here or on another coordinator).
      changed('runner', runner.id);
      // The row as written, as after an update: a runner's first request (it usually follows its
      // registration at once) needs no read here. Other coordinators read it on their first miss.
      caches.runners.set(runner.tokenHash, runner, caches.runners.epoch);
      return runner;
    },
    updateRunner: async (id, patch) => {
      const updated = await after(store.updateRunner(id, patch), 'runner', id);
      // The row as written: requests right after it (the runner's other clients) need no read.
      if (updated) caches.runners.set(updated.tokenHash, updated, caches.runners.epoch);
      return updated;
    },
    deleteRunner: (id) => after(store.deleteRunner(id), 'runner', id),
    getProject: (id) => caches.projects.read(id, () => store.getProject(id)),
    updateProject: (id, patch) => after(store.updateProject(id, patch), 'project', id),
    touchProject: (id, at) => after(store.touchProject(id, at), 'project', id),
    deleteProject: async (id) => {
      const deleted = await after(store.deleteProject(id), 'project', id);
      changed('variables', id);
      changed('job', ALL_JOBS);
      return deleted;
    },
    deletePipeline: (id) => after(store.deletePipeline(id), 'job', ALL_JOBS),
    listVariables: async (projectId) => [
      ...(await caches.variables.read(projectId, () => store.listVariables(projectId))),
    ],
    createVariable: (input) => after(store.createVariable(input), 'variables', input.projectId),
    updateVariable: (projectId, key, scope, patch) =>
      after(store.updateVariable(projectId, key, scope, patch), 'variables', projectId),
    deleteVariable: (projectId, key, scope) =>
      after(store.deleteVariable(projectId, key, scope), 'variables', projectId),
    getUser: async (id) => {
      const user = await caches.users.read(id, () => store.getUser(id));
      // A user not found yet may be created later: only found users stay cached.
      if (user === null) caches.users.invalidate((key) => key === id);
      return user;
    },
    ...jobOverrides(store, caches.jobs, changed),
  };
  return new Proxy(store, {
    get(target, property) {
      const own = (overrides as Record<PropertyKey, unknown>)[property];
      if (own !== undefined) return own;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
