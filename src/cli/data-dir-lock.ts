/**
 * One coordinator per SQLite data directory. The SQLite store is built for one owning process: its
 * job logs over 256 KiB are files appended in place under `traces/`, serialised per job inside the
 * process; its caches and the runners' long polls are woken by its own writes only. A second
 * coordinator started on the same directory (a second `flotilla up`, a service started twice) would
 * write over another's acknowledged log bytes and leave runners waiting for jobs the other queued.
 * So the coordinator holds `<data dir>/coordinator.pid` while it runs, as PostgreSQL holds
 * `postmaster.pid`: created exclusively, holding its process id and that process's start time; a
 * file whose process is gone (a crash, a kill -9) is taken over. The start time tells a live
 * holder from an unrelated process that got the same id after a restart (in a container, the old
 * coordinator was often pid 1, and pid 1 is the new container's init). PostgreSQL stores have no lock here: several coordinators
 * sharing one database is what they are for.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { FlotillaError } from '../shared/errors.js';
import { recordedProcessRuns, SYSTEM_PROBE, type ProcessProbe } from '../shared/process-alive.js';

export const LOCK_FILE = 'coordinator.pid';

export interface DataDirLock {
  readonly file: string;
  /** Removes the file if it is still this process's; safe to call more than once. */
  release(): Promise<void>;
}

/** This process's id, and how other processes are looked at (tests inject both). */
export interface LockDeps extends ProcessProbe {
  pid: number;
}

const SYSTEM: LockDeps = { ...SYSTEM_PROBE, pid: process.pid };

interface Holder {
  pid: number;
  /** Empty when the file did not record it. */
  startTime: string;
}

async function holderOf(file: string): Promise<Holder | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const [first = '', startTime = ''] = text.split('\n')[0]?.split(' ') ?? [];
  const pid = Number(first);
  return Number.isInteger(pid) && pid > 0 ? { pid, startTime } : null;
}

/** The holder's process still runs (and is not this one, whose pid a reboot may have reused). */
function holds(holder: Holder, deps: LockDeps): boolean {
  return holder.pid !== deps.pid && recordedProcessRuns(holder.pid, holder.startTime, deps);
}

async function create(file: string, deps: LockDeps): Promise<boolean> {
  try {
    await writeFile(file, `${deps.pid} ${deps.startTime(deps.pid) ?? ''}`.trim() + '\n', { flag: 'wx' });
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
    if (await create(file, deps)) return heldLock(file, deps.pid);
    const holder = await holderOf(file);
    if (holder !== null && holds(holder, deps)) throw inUse(dataDir, file, holder.pid);
    // A crash left it, or its pid now names another process (this one, after a reboot).
    await rm(file, { force: true });
  }
  const holder = await holderOf(file);
  throw inUse(dataDir, file, holder?.pid ?? 0);
}

function heldLock(file: string, pid: number): DataDirLock {
  let released = false;
  return {
    file,
    release: async () => {
      if (released) return;
      released = true;
      if ((await holderOf(file))?.pid === pid) await rm(file, { force: true });
    },
  };
}
