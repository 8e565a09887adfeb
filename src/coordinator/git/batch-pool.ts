import { CatFileBatch } from './cat-file-batch.js';
import type { GitRunnerOptions } from './run-git.js';

export interface BatchPoolOptions {
  /** Most repositories with a process at once; the least recently used one is closed beyond. */
  maxProcesses?: number;
  /** Close a repository's process after it has been idle this long. */
  idleMs?: number;
}

export interface BatchPool {
  /** The repository's `cat-file --batch-command` process, started on first use. */
  forRepository(dir: string): CatFileBatch;
  /** Ends the repository's process, e.g. before the repository is removed. */
  forget(dir: string): void;
  close(): void;
}

const DEFAULT_MAX_PROCESSES = 32;
const DEFAULT_IDLE_MS = 60_000;

/**
 * Keeps one `git cat-file --batch-command` per recently read repository, so that the reads of
 * pipeline creation and job requests (refs, `.gitlab-ci.yml`, includes, commits) cost a line on a
 * pipe instead of a process each.
 */
export function createBatchPool(runner: GitRunnerOptions, options: BatchPoolOptions = {}): BatchPool {
  const maxProcesses = options.maxProcesses ?? DEFAULT_MAX_PROCESSES;
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const byDir = new Map<string, CatFileBatch>();
  const forRepository = (dir: string): CatFileBatch => {
    const found = byDir.get(dir);
    if (found?.alive) {
      byDir.delete(dir);
      byDir.set(dir, found);
      return found;
    }
    const batch: CatFileBatch = new CatFileBatch(runner, dir, idleMs, () => {
      if (byDir.get(dir) === batch) byDir.delete(dir);
    });
    byDir.set(dir, batch);
    if (byDir.size > maxProcesses) {
      const [oldest] = byDir.values();
      oldest?.close();
      byDir.delete(byDir.keys().next().value as string);
    }
    return batch;
  };
  const close = (): void => {
    for (const batch of byDir.values()) batch.close();
    byDir.clear();
  };
  const forget = (dir: string): void => {
    byDir.get(dir)?.close();
    byDir.delete(dir);
  };
  return { forRepository, forget, close };
}
