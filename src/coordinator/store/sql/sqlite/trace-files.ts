/**
 * Job logs kept as one append-only file per job (`<dir>/<jobId>.log`) instead of 1 MiB blobs in
 * the SQLite database, so that each byte of a log is written once (not to the WAL and again to the
 * database file at each checkpoint), and written and synced on the libuv thread pool instead of
 * inside better-sqlite3 on the event loop. The database keeps the authoritative length
 * (`jobs.trace_size`): bytes past it are not part of the log (an append that crashed before its
 * size was committed) and are written over by the next append. See `tables/trace.ts` for the order of
 * the writes that keeps every acknowledged byte.
 *
 * SQLite only: one coordinator process owns the database file and the trace directory, and
 * appends to one job are serialised in that process (`JobLocks`). With PostgreSQL, several
 * coordinators share the database, so logs stay in `trace_chunks`, visible to every replica.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface TraceFilesOptions {
  /** Where the files go (created when missing). */
  dir: string;
  /**
   * A log moves from the database to a file once it would reach this many bytes, so the many
   * small logs (a few KiB each) keep using the database's group commit instead of one file
   * creation and `fdatasync` per log. 0: every log is a file.
   */
  threshold?: number;
  /** Whether writes are synced before an append returns (false only for a throwaway store). */
  sync?: boolean;
}

export const DEFAULT_TRACE_FILE_THRESHOLD = 256 * 1024;

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** The job ids of the `<jobId>.log` files in `dir` (none when it does not exist yet). */
async function listedJobs(dir: string): Promise<Set<number>> {
  try {
    const names = await readdir(dir);
    const ids = names.map((n) => /^(\d+)\.log$/.exec(n)?.[1]).filter((id) => id !== undefined);
    return new Set(ids.map(Number));
  } catch (err) {
    if (isMissing(err)) return new Set();
    throw err;
  }
}

export class TraceFiles {
  readonly dir: string;
  readonly threshold: number;
  readonly #sync: boolean;
  #dirReady: Promise<void> | undefined;
  /**
   * The jobs that have a file: listed from the directory once, then kept by `create` and `remove`.
   * Only this process writes the directory, so a job not in the set has no file, and the appends
   * and reads of the many small logs (kept in the database) open nothing: a failed `open` and its
   * thrown ENOENT cost more than the append's own SQL. `create` adds the job before its file
   * appears under its name, so a read that finds the log's chunks gone finds the file.
   */
  #present: Promise<Set<number>> | undefined;

  constructor(options: TraceFilesOptions) {
    this.dir = options.dir;
    this.threshold = options.threshold ?? DEFAULT_TRACE_FILE_THRESHOLD;
    this.#sync = options.sync ?? true;
  }

  file(jobId: number): string {
    return path.join(this.dir, `${jobId}.log`);
  }

  /** Opens the job's file for writing, or returns null when it has none. */
  openExisting(jobId: number): Promise<FileHandle | null> {
    return this.#openIfPresent(jobId, constants.O_WRONLY);
  }

  #jobsWithFiles(): Promise<Set<number>> {
    this.#present ??= listedJobs(this.dir);
    return this.#present;
  }

  async #openIfPresent(jobId: number, flags: number | string): Promise<FileHandle | null> {
    if (!(await this.#jobsWithFiles()).has(jobId)) return null;
    try {
      return await open(this.file(jobId), flags);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /**
   * Creates the job's file holding `prefix` (the log so far, from the database), made durable
   * before it appears under its name, and returns it open for writing.
   */
  async create(jobId: number, prefix: readonly Buffer[]): Promise<FileHandle> {
    await this.#ensureDir();
    const target = this.file(jobId);
    const tmp = `${target}.tmp`;
    // Before the name appears: a read that finds the chunks gone must then find the file.
    (await this.#jobsWithFiles()).add(jobId);
    const handle = await open(tmp, 'w');
    try {
      let position = 0;
      for (const chunk of prefix) {
        await writeFully(handle, chunk, position);
        position += chunk.length;
      }
      if (this.#sync) await handle.datasync();
      await rename(tmp, target);
      await this.#syncDir();
      return handle;
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /** Writes `data` at `offset` and, unless throwaway, waits until it is on stable storage. */
  async write(handle: FileHandle, offset: number, data: Buffer | readonly Buffer[]): Promise<void> {
    if (Buffer.isBuffer(data)) await writeFully(handle, data, offset);
    else await writeAll(handle, data, offset);
    if (this.#sync) await handle.datasync();
  }

  /** Bytes [start, end) of the job's file, or null when the job has no file. */
  async read(jobId: number, start: number, end: number): Promise<Buffer | null> {
    const handle = await this.#openIfPresent(jobId, 'r');
    if (handle === null) return null;
    try {
      const out = Buffer.allocUnsafe(Math.max(0, end - start));
      let filled = 0;
      while (filled < out.length) {
        const { bytesRead } = await handle.read(out, filled, out.length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return out.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  async remove(jobIds: readonly number[]): Promise<void> {
    const present = await this.#jobsWithFiles();
    for (const id of jobIds) {
      await rm(this.file(id), { force: true });
      present.delete(id);
    }
  }

  #ensureDir(): Promise<void> {
    this.#dirReady ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
    return this.#dirReady;
  }

  /** Makes a new name in the directory durable (a file's own sync does not cover its entry). */
  async #syncDir(): Promise<void> {
    if (!this.#sync) return;
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}

/** Writes the pieces one after another from `position`, with one `writev` when it takes them all. */
async function writeAll(handle: FileHandle, pieces: readonly Buffer[], position: number): Promise<void> {
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const { bytesWritten } = await handle.writev(pieces as Buffer[], position);
  if (bytesWritten === total) return;
  await writeFully(handle, Buffer.concat(pieces).subarray(bytesWritten), position + bytesWritten);
}

/** Runs tasks for one key one after another (appends to one job's log, in this process). */
export class JobLocks {
  readonly #tails = new Map<number, Promise<unknown>>();

  run<T>(key: number, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
