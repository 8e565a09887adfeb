/**
 * Parsed job definitions, shared by every record of the same job. A job's definition is written
 * once, when its pipeline is created, and never updated (a retry is a new job with its own row),
 * yet every job list of a pipeline processing decoded all its jobs' definitions again: a 20-job
 * pipeline's finished job cost 20 `JSON.parse` calls and their garbage, on the hottest path of the
 * coordinator. The cache keeps the parsed object per job id and hands it out again while the row's
 * text is the same; the text is compared in full (a string comparison, far cheaper than parsing),
 * so a row whose definition did change (another store, a migration) is parsed again.
 *
 * A cached definition is shared, so it is deep-frozen: code that tried to change one would throw
 * instead of changing another record's definition behind its back.
 */
import type { JobDefinition } from '../../../pipeline/types.js';

/** Jobs whose definitions are kept: the pending and running jobs of a busy instance. */
export const DEFAULT_DEFINITION_CACHE_SIZE = 4096;

export interface DefinitionCacheStats {
  hits: number;
  misses: number;
  size: number;
}

interface Entry {
  text: string;
  value: JobDefinition;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

export class DefinitionCache {
  readonly #max: number;
  /** Insertion order: the first key is the oldest entry, dropped first. */
  readonly #entries = new Map<number, Entry>();
  #hits = 0;
  #misses = 0;

  constructor(maxEntries = DEFAULT_DEFINITION_CACHE_SIZE) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${String(maxEntries)}`);
    }
    this.#max = maxEntries;
  }

  /** The definition of job `jobId` stored as `text`, parsed once per job while the text is the same. */
  get(jobId: number, text: string): JobDefinition {
    const cached = this.#entries.get(jobId);
    if (cached !== undefined && cached.text === text) {
      this.#hits++;
      return cached.value;
    }
    this.#misses++;
    const value = deepFreeze(JSON.parse(text) as JobDefinition);
    this.#entries.delete(jobId);
    this.#entries.set(jobId, { text, value });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return value;
  }

  stats(): DefinitionCacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }
}

/** The process's cache, used by `toJob` (the store's row mapping). */
export const jobDefinitions = new DefinitionCache();
