/**
 * The job-token part of the caching store: the job a job token authenticates, read on every trace
 * PATCH and status PUT (three requests for a job with two trace chunks).
 *
 * - A claim puts the job it returns in the cache (the runner's first PATCH needs no read).
 * - Every write of a job through this store replaces its entry with the row as written, or drops
 *   it (a finished job's token is cleared, so it no longer authenticates); a trace append updates
 *   the entry's size.
 * - A status change of a job that holds a token, an erase or a deletion is also published on the
 *   bus, so that the other coordinators of the database drop their entry (a job canceled there gets
 *   its 403 here). The other fields that a job's own requests read (its id, project, pipeline,
 *   definition) never change.
 * - Entries expire like the other caches' (the backstop for a lost notification).
 */
import type { CachedEntity, Table } from './caching-store.js';
import type { JobPatch, JobRecord, Store } from './store.js';

type Changed = (entity: CachedEntity, id: number) => void;

/** Jobs by token hash, with the job id → token hash index that writes (by id) need. */
export class JobTokenTable {
  readonly #table: Table<string, JobRecord>;
  readonly #hashes = new Map<number, string>();
  readonly #max: number;

  constructor(table: Table<string, JobRecord>, max: number) {
    this.#table = table;
    this.#max = max;
  }

  get epoch(): number {
    return this.#table.epoch;
  }

  get(hash: string): JobRecord | undefined {
    return this.#table.get(hash);
  }

  put(job: JobRecord, epoch = this.#table.epoch): void {
    if (job.tokenHash === null) return;
    if (this.#hashes.size >= this.#max) this.dropAll();
    if (this.#table.set(job.tokenHash, job, epoch)) this.#hashes.set(job.id, job.tokenHash);
  }

  /** Drops job `id`'s entry; reads of it in flight are not cached (they may have read the old row). */
  dropId(id: number): void {
    const hash = this.#hashes.get(id);
    this.#hashes.delete(id);
    this.#table.invalidate((key, job) => key === hash || job.id === id);
  }

  dropAll(): void {
    this.#hashes.clear();
    this.#table.invalidate();
  }

  /** The entry of job `id` with its new trace size (no read, no epoch change). */
  setTraceSize(id: number, size: number): void {
    const hash = this.#hashes.get(id);
    const job = hash === undefined ? undefined : this.#table.get(hash);
    if (hash !== undefined && job !== undefined)
      this.#table.set(hash, { ...job, traceSize: size }, this.epoch);
  }
}

/** Whether other coordinators may hold the job in their cache and must hear of this write. */
function seenElsewhere(patch: JobPatch, updated: JobRecord | null): boolean {
  if (patch.status === undefined && patch.tokenHash === undefined) return false;
  return updated === null || updated.tokenHash !== null || patch.tokenHash !== undefined;
}

export function jobOverrides(store: Store, jobs: JobTokenTable, changed: Changed): Partial<Store> {
  return {
    findJobByTokenHash: async (hash) => {
      const hit = jobs.get(hash);
      if (hit !== undefined) return hit;
      const epoch = jobs.epoch;
      const job = await store.findJobByTokenHash(hash);
      if (job?.tokenHash === hash) jobs.put(job, epoch);
      return job;
    },
    claimPendingJob: async (match, claim) => {
      const job = await store.claimPendingJob(match, claim);
      if (job) jobs.put(job);
      return job;
    },
    claimPendingJobWithPipeline: async (match, claim) => {
      const claimed = await store.claimPendingJobWithPipeline(match, claim);
      if (claimed) jobs.put(claimed.job);
      return claimed;
    },
    updateJob: async (id, patch, expect) => {
      let updated: JobRecord | null = null;
      try {
        updated = await store.updateJob(id, patch, expect);
        return updated;
      } finally {
        // A status or token change drops the entry (and any read in flight); another patch leaves
        // the token as it was, so the row as written replaces the entry.
        if (seenElsewhere(patch, updated)) changed('job', id);
        else if (updated === null) jobs.dropId(id);
        if (updated) jobs.put(updated);
      }
    },
    updateJobs: async (ids, patch, expect) => {
      let updated: JobRecord[] | null = null;
      try {
        updated = await store.updateJobs(ids, patch, expect);
        return updated;
      } finally {
        // As updateJob, per id: a job not written (or a failed call) is dropped or announced.
        const byId = new Map((updated ?? []).map((job) => [job.id, job]));
        for (const id of ids) {
          const job = byId.get(id) ?? null;
          if (seenElsewhere(patch, job)) changed('job', id);
          else if (job === null) jobs.dropId(id);
          if (job) jobs.put(job);
        }
      }
    },
    appendTrace: async (jobId, offset, data) => {
      const result = await store.appendTrace(jobId, offset, data);
      jobs.setTraceSize(jobId, result.size);
      return result;
    },
    eraseJob: async (id, at) => {
      try {
        return await store.eraseJob(id, at);
      } finally {
        changed('job', id);
      }
    },
  };
}
