/**
 * Runs one process for a stage in its own process group (spawned detached), so the whole tree can be
 * killed: on abort the group gets SIGTERM, then SIGKILL after a grace period. When the main process
 * exits, anything it left behind in its group is killed too: a stage's processes never outlive it
 * (a lingering background child would otherwise hold the output pipe open and hang the job).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

import type { JobOutput } from '../executor.js';

export interface RunProcessOptions {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  output: JobOutput;
  signal: AbortSignal;
  /** Time between SIGTERM and SIGKILL on abort. */
  killGraceMs?: number;
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is gone already
  }
}

function exitCodeOf(code: number | null, sig: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = sig ? constants.signals[sig] : undefined;
  return 128 + (number ?? 0);
}

/** Starts a stage's process; `runProcess` spawns from the calling thread (see spawn-thread.ts). */
export interface ProcessLauncher {
  run(options: RunProcessOptions): Promise<number>;
}

/** The events of one process, from wherever it was spawned, and the promise they settle. */
export interface ProcessSettlement {
  promise: Promise<number>;
  spawned(pid: number | undefined): void;
  exited(code: number | null, sig: NodeJS.Signals | null): void;
  failed(err: Error): void;
  closed(): void;
}

/**
 * Resolves with the exit code at `closed`; on abort the process group gets SIGTERM, then SIGKILL
 * after the grace period, and the promise rejects with `signal.reason` once the tree is gone.
 */
export function settleProcess(options: RunProcessOptions): ProcessSettlement {
  const { signal } = options;
  let pid: number | undefined;
  let exitCode = -1;
  let killTimer: NodeJS.Timeout | undefined;
  let resolve!: (code: number) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<number>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const onAbort = (): void => {
    if (pid === undefined) return;
    const group = pid;
    killGroup(group, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(group, 'SIGKILL'), options.killGraceMs ?? 5000);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const done = (): void => {
    signal.removeEventListener('abort', onAbort);
    clearTimeout(killTimer);
  };
  return {
    promise,
    spawned(childPid) {
      pid = childPid;
      if (signal.aborted) onAbort();
    },
    exited(code, sig) {
      exitCode = exitCodeOf(code, sig);
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    },
    failed(err) {
      done();
      reject(err);
    },
    closed() {
      done();
      if (signal.aborted) reject(signal.reason);
      else resolve(exitCode);
    },
  };
}

/** Resolves with the exit code; rejects with `signal.reason` when aborted (after the tree is gone). */
export function runProcess(options: RunProcessOptions): Promise<number> {
  const { signal, output } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  const settle = settleProcess(options);
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  settle.spawned(child.pid);
  child.stdout.on('data', (chunk: Buffer) => output.write(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.write(chunk));
  child.on('exit', settle.exited);
  child.on('error', settle.failed);
  child.on('close', settle.closed);
  return settle.promise;
}

/** The default launcher: `runProcess`, from the calling thread. */
export const inThreadLauncher: ProcessLauncher = { run: runProcess };
