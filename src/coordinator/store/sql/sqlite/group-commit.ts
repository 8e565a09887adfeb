/**
 * Group commit for SQLite in WAL mode. The database runs with `synchronous = NORMAL`: a commit
 * appends its frames to the WAL file (into the OS page cache) and returns without an fsync, so it
 * survives a crash of this process but not yet a power cut. Before the coordinator acknowledges a
 * request (see `Store.durable`), it waits here until one `fdatasync` of the WAL file, started after
 * its last commit, has completed. Every commit made before that sync started shares it: under load
 * one sync on the libuv thread pool covers many requests, and none of it blocks the event loop
 * (with `synchronous = FULL`, every commit waited for the disk on the event loop).
 *
 * SQLite itself still syncs the WAL before each checkpoint and the database file after it, so
 * frames a checkpoint copies are on disk before the WAL restarts over them.
 *
 * Commits are counted as they happen: better-sqlite3 runs statements synchronously, so after a
 * statement that wrote, the write is committed once the connection is no longer inside a
 * transaction (autocommit at once, an explicit transaction at its COMMIT).
 */
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

interface Waiter {
  upTo: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class WalGroupSync {
  readonly #walPath: string;
  #handle: Promise<FileHandle | null> | null = null;
  /** Commits counted so far, and how many of them a completed sync covers. */
  #committed = 0;
  #synced = 0;
  #writeOpen = false;
  #syncing = false;
  #waiters: Waiter[] = [];
  #syncs = 0;

  constructor(databaseFile: string) {
    this.#walPath = `${databaseFile}-wal`;
  }

  /** Call after every statement: whether it wrote, and whether a transaction is still open. */
  afterStatement(wrote: boolean, inTransaction: boolean): void {
    if (wrote) this.#writeOpen = true;
    if (this.#writeOpen && !inTransaction) {
      this.#writeOpen = false;
      this.#committed++;
    }
  }

  /** How many fdatasync calls completed (for tests and diagnostics). */
  get syncs(): number {
    return this.#syncs;
  }

  /** Resolves once every commit counted before this call is on stable storage. */
  durable(): Promise<void> {
    const upTo = this.#committed;
    if (upTo <= this.#synced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ upTo, resolve, reject });
      this.#kick();
    });
  }

  async close(): Promise<void> {
    const handle = await this.#handle?.catch(() => null);
    this.#handle = null;
    await handle?.close().catch(() => undefined);
  }

  #kick(): void {
    if (this.#syncing || this.#waiters.length === 0) return;
    this.#syncing = true;
    const upTo = this.#committed;
    void this.#syncOnce().then(
      () => this.#settle(upTo, null),
      (err: unknown) => this.#settle(upTo, err ?? new Error('WAL sync failed')),
    );
  }

  #settle(upTo: number, err: unknown): void {
    this.#syncing = false;
    if (err === null) this.#synced = Math.max(this.#synced, upTo);
    const covered = this.#waiters.filter((w) => w.upTo <= upTo);
    this.#waiters = this.#waiters.filter((w) => w.upTo > upTo);
    for (const w of covered) {
      if (err === null) w.resolve();
      else w.reject(err);
    }
    this.#kick();
  }

  async #syncOnce(): Promise<void> {
    this.#handle ??= openWal(this.#walPath);
    const handle = await this.#handle;
    if (handle === null) {
      // No WAL file yet: let the next sync look again.
      this.#handle = null;
      return;
    }
    await handle.datasync();
    this.#syncs++;
  }
}

/** Opens the WAL file (null when it does not exist) and syncs its directory entry once. */
async function openWal(walPath: string): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(walPath, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const dir = await open(path.dirname(walPath), 'r');
  try {
    await dir.sync();
  } catch (err) {
    // Some file systems refuse fsync on a directory; the file's own sync still holds its data.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    await dir.close();
  }
  return handle;
}
