/** Whether a process with this id exists (signal 0: nothing is sent), as `kill -0` tells. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
