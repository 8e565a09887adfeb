/**
 * A shell job's scratch folder (`<project dir>.tmp`: file variables, scripts) is renamed away at the
 * job's end and deleted off the job's path. A process that ends before such a deletion finishes
 * leaves a `<project dir>.tmp.removed-<pid>-…` folder behind; the next job prepared in the same
 * place deletes those of processes that no longer run.
 */
import { readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { processAlive } from '../../shared/process-alive.js';

const REMOVED = '.removed-';

/** Renames the folder away at once (a later job of the same slot gets a new one) and deletes it in the background. */
export async function removeTmpDir(tmpDir: string): Promise<void> {
  const doomed = `${tmpDir}${REMOVED}${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  try {
    await rename(tmpDir, doomed);
  } catch {
    await rm(tmpDir, { recursive: true, force: true });
    return;
  }
  void rm(doomed, { recursive: true, force: true }).catch(() => undefined);
}

/** Deletes what `removeTmpDir` left behind for `tmpDir` in processes that have ended. */
export async function sweepRemovedTmpDirs(tmpDir: string): Promise<void> {
  const prefix = `${basename(tmpDir)}${REMOVED}`;
  const names = await readdir(dirname(tmpDir)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pid === process.pid || (Number.isInteger(pid) && pid > 0 && processAlive(pid))) continue;
    await rm(join(dirname(tmpDir), name), { recursive: true, force: true }).catch(() => undefined);
  }
}
