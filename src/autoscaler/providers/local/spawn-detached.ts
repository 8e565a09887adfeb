/** Starts a long-lived process for a machine (through `nsenter`), detached, its output in `logPath`. */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';

/** Resolves with the pid once the process has started; rejects when it cannot be started. */
export async function spawnDetached(command: string, args: string[], logPath: string): Promise<number> {
  const log = await open(logPath, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log.fd, log.fd] });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? 0));
      child.once('error', reject);
    });
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}
