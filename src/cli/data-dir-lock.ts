/**
 * One coordinator per SQLite data directory. The SQLite store is built for one owning process: its
 * job logs over 256 KiB are files appended in place under `traces/`, serialised per job inside the
 * process; its caches and the runners' long polls are woken by its own writes only. A second
 * coordinator started on the same directory (a second `flotilla up`, a service started twice) would
 * write over another's acknowledged log bytes and leave runners waiting for jobs the other queued.
 * So the coordinator holds `<data dir>/coordinator.pid` while it runs, as PostgreSQL holds
 * `postmaster.pid`: created exclusively, holding its process id; a file whose process is gone (a
 * crash, a kill -9) is taken over. PostgreSQL stores have no lock here: several coordinators
 * sharing one database is what they are for.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { FlotillaError } from '../shared/errors.js';

export const LOCK_FILE = 'coordinator.pid';

export interface DataDirLock {
  readonly file: string;
  /** Removes the file if it is still this process's; safe to call more than once. */
  release(): Promise<void>;
}

export interface LockDeps {
  pid: number;
  /** Whether a process with this id runs (on this host). */
  alive(pid: number): boolean;
}

/** `kill(pid, 0)`: delivered or refused for permissions means the process exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const SYSTEM: LockDeps = { pid: process.pid, alive: processAlive };

async function holderOf(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function create(file: string, pid: number): Promise<boolean> {
  try {
    await writeFile(file, `${pid}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function inUse(dataDir: string, file: string, pid: number): FlotillaError {
  return new FlotillaError(
    'FLO_ERR_DATA_DIR_IN_USE',
    `the data directory ${dataDir} is in use by another coordinator (process ${pid}): stop it, or ` +
      `give this one another --data-dir. If no coordinator runs, remove ${file}`,
    { details: { dataDir, pid } },
  );
}

/** Takes the data directory for this process, or throws FLO_ERR_DATA_DIR_IN_USE naming the holder. */
export async function lockDataDir(dataDir: string, deps: LockDeps = SYSTEM): Promise<DataDirLock> {
  const file = path.join(dataDir, LOCK_FILE);
  // Two tries: a stale file is removed once; losing the race for it to another starter reads
  // that starter's pid on the second try.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await create(file, deps.pid)) return heldLock(file, deps.pid);
    const holder = await holderOf(file);
    if (holder !== null && holder !== deps.pid && deps.alive(holder)) throw inUse(dataDir, file, holder);
    // A crash left it (or it names this very process: a pid reused after a reboot).
    await rm(file, { force: true });
  }
  const holder = await holderOf(file);
  throw inUse(dataDir, file, holder ?? 0);
}

function heldLock(file: string, pid: number): DataDirLock {
  let released = false;
  return {
    file,
    release: async () => {
      if (released) return;
      released = true;
      if ((await holderOf(file)) === pid) await rm(file, { force: true });
    },
  };
}
