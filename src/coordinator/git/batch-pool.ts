import { CatFileBatch } from './cat-file-batch.js';
import { RefWriter } from './ref-writer.js';
import type { GitRunnerOptions } from './run-git.js';

export interface BatchPoolOptions {
  /** Most repositories with kept processes at once; the least recently used are closed beyond. */
  maxProcesses?: number;
  /** Close a repository's process after it has been idle this long. */
  idleMs?: number;
}

export interface BatchPool {
  /** The repository's `cat-file --batch-command` process, started on first use. */
  forRepository(dir: string): CatFileBatch;
  /** The repository's `update-ref --stdin` process, started on first use. */
  refWriter(dir: string): RefWriter;
  /** Ends the repository's processes, e.g. before the repository is removed. */
  forget(dir: string): void;
  close(): void;
}

interface Kept {
  readonly alive: boolean;
  close(): void;
}

type Factory<P> = (dir: string, onExit: () => void) => P;

const DEFAULT_MAX_PROCESSES = 32;
const DEFAULT_IDLE_MS = 60_000;

/**
 * Keeps a `git cat-file --batch-command` and a `git update-ref --stdin` per recently used
 * repository, so that the reads and pipeline refs of pipeline creation and job requests (refs,
 * `.gitlab-ci.yml`, includes, commits, `refs/pipelines/<id>`) cost a line on a pipe instead of a
 * process each.
 */
export function createBatchPool(runner: GitRunnerOptions, options: BatchPoolOptions = {}): BatchPool {
  const max = options.maxProcesses ?? DEFAULT_MAX_PROCESSES;
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const readers = keptPerDirectory(max, (dir, onExit) => new CatFileBatch(runner, dir, idleMs, onExit));
  const writers = keptPerDirectory(max, (dir, onExit) => new RefWriter(runner, dir, idleMs, onExit));
  return {
    forRepository: readers.get,
    refWriter: writers.get,
    forget: (dir) => {
      readers.forget(dir);
      writers.forget(dir);
    },
    close: () => {
      readers.close();
      writers.close();
    },
  };
}

function keptPerDirectory<P extends Kept>(max: number, create: Factory<P>) {
  const byDir = new Map<string, P>();
  const get = (dir: string): P => {
    const found = byDir.get(dir);
    byDir.delete(dir);
    if (found?.alive) {
      byDir.set(dir, found);
      return found;
    }
    const made: P = create(dir, () => {
      if (byDir.get(dir) === made) byDir.delete(dir);
    });
    byDir.set(dir, made);
    if (byDir.size > max) forget(byDir.keys().next().value as string);
    return made;
  };
  const forget = (dir: string): void => {
    byDir.get(dir)?.close();
    byDir.delete(dir);
  };
  const close = (): void => {
    for (const kept of byDir.values()) kept.close();
    byDir.clear();
  };
  return { get, forget, close };
}
