/**
 * Runs one process for a stage in its own process group (spawned detached), so the whole tree can be
 * killed: on abort the group gets SIGTERM, then SIGKILL after a grace period. When the main process
 * exits, anything it left behind in its group is killed too: a stage's processes never outlive it
 * (a lingering background child would otherwise hold the output pipe open and hang the job).
 */
import { constants } from 'node:os';

import type { JobOutput } from '../executor.js';
import { directLauncher, type Launcher } from './launcher.js';
import { readPipe } from './pipe-reader.js';

export interface RunProcessOptions {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  output: JobOutput;
  signal: AbortSignal;
  /** Time between SIGTERM and SIGKILL on abort. */
  killGraceMs?: number;
  /** What starts the process (default: a detached child of this process). */
  launcher?: Launcher;
}

/** An output that keeps what a process wrote, for its text afterwards. */
export function collectOutput(): JobOutput & { text(): string } {
  const chunks: Buffer[] = [];
  return {
    write: (chunk) => void chunks.push(Buffer.from(chunk)),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

export { killGroup } from './launcher.js';

/** A process's exit code as a shell reports it: 128 + the signal's number when killed. */
export function exitCodeOf(code: number | null, sig: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = sig ? constants.signals[sig] : undefined;
  return 128 + (number ?? 0);
}

/** Resolves with the exit code; rejects with `signal.reason` when aborted (after the tree is gone). */
export function runProcess(options: RunProcessOptions): Promise<number> {
  const { signal, output } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<number>((resolve, reject) => {
    const child = (options.launcher ?? directLauncher).launch({
      command: options.command,
      args: options.args,
      cwd: options.cwd,
      env: options.env,
      stdin: 'ignore',
    });
    let exitCode = -1;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.killGroup('SIGTERM');
      killTimer = setTimeout(() => child.killGroup('SIGKILL'), options.killGraceMs ?? 5000);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // an output that is done with each chunk at once gets views of one reused read buffer
    const write = (chunk: Buffer): void => output.write(chunk);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      if (output.syncWrite) readPipe(stream, write);
      else stream.on('data', write);
    }
    child.onExit((code, sig) => {
      exitCode = exitCodeOf(code, sig);
      child.killGroup('SIGKILL');
    });
    child.onError((err) => {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      reject(err);
    });
    child.onClose(() => {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (signal.aborted) reject(signal.reason);
      else resolve(exitCode);
    });
  });
}
