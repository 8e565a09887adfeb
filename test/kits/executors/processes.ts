/** Process checks for the shell executor's tests (Linux: reads /proc). Used by tests only. */
import { readFileSync } from 'node:fs';

/** A process is gone when kill(0) fails or it is a zombie waiting to be reaped. */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
