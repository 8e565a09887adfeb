/**
 * Whether a process with this id exists (signal 0: nothing is sent), as `kill -0` tells. A process
 * of another user refuses the signal (EPERM) but exists.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
