/**
 * Whether a process with this id exists (signal 0: nothing is sent), as `kill -0` tells. A process
 * of another user refuses the signal (EPERM) but exists.
 */
import { readFileSync } from 'node:fs';

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When the process with this id started, as stable text, or null where that cannot be read.
 * Linux: field 22 of /proc/<pid>/stat (clock ticks since boot), read after the command's ")".
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** How a process is looked at (tests inject one). */
export interface ProcessProbe {
  alive(pid: number): boolean;
  startTime(pid: number): string | null;
}

export const SYSTEM_PROBE: ProcessProbe = { alive: processAlive, startTime: processStartTime };

/**
 * Whether the process that recorded `pid` (and, when it recorded it, its start time) still runs:
 * alive, and started when the record says where both start times are known. A pid that now names
 * another process (ids are reused after a restart: in a container the old process was often pid 1,
 * and pid 1 is the new container's init) does not count.
 */
export function recordedProcessRuns(
  pid: number,
  recordedStart: string | undefined,
  probe: ProcessProbe = SYSTEM_PROBE,
): boolean {
  if (!probe.alive(pid)) return false;
  if (!recordedStart) return true;
  const now = probe.startTime(pid);
  return now === null || now === recordedStart;
}
