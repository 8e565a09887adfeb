/**
 * How the shell executor starts a stage's process: each in its own process group, killed as a
 * whole. The direct launcher forks this Node process for every process (`child_process.spawn`,
 * detached); the zygote (zygote.ts) has a small long-lived bash fork them instead, which takes the
 * fork of a large process off the main thread.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface LaunchRequest {
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `pipe`: the caller writes the process's stdin; `ignore`: stdin is /dev/null. */
  stdin: 'pipe' | 'ignore';
}

export type ExitListener = (code: number | null, signal: NodeJS.Signals | null) => void;

/** A started process, as much of a `ChildProcess` as the stages use. */
export interface LaunchedProcess {
  /** null when the request said `ignore`. */
  readonly stdin: Writable | null;
  readonly stdout: Readable;
  /** null when stderr is merged into stdout (the zygote's processes). */
  readonly stderr: Readable | null;
  /** Sends `signal` to the process's group: queued until the group exists, nothing once it is gone. */
  killGroup(signal: NodeJS.Signals): void;
  /** The process has ended (its streams may still hold output). */
  onExit(listener: ExitListener): void;
  /** The process has ended and its output is all read. */
  onClose(listener: () => void): void;
  /** It could not be started (no `close` follows). */
  onError(listener: (err: Error) => void): void;
}

export interface Launcher {
  launch(request: LaunchRequest): LaunchedProcess;
}

/** Sends `sig` to the process group led by `pid` (no-op when there is none or it is gone). */
export function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is gone already
  }
}

/** Forks this process for each launch (a detached child: its own session and process group). */
export const directLauncher: Launcher = {
  launch(request) {
    const child = spawn(request.command, [...request.args], {
      cwd: request.cwd,
      env: request.env,
      detached: true,
      stdio: [request.stdin, 'pipe', 'pipe'],
    });
    const { stdout, stderr } = child;
    // piped by the options above: Node's types cannot tell from a computed stdio array
    if (!stdout || !stderr) throw new Error('spawn gave no output pipes');
    return {
      stdin: child.stdin,
      stdout,
      stderr,
      killGroup: (signal) => killGroup(child.pid, signal),
      onExit: (listener) => void child.on('exit', listener),
      onClose: (listener) => void child.on('close', listener),
      onError: (listener) => void child.on('error', listener),
    };
  },
};
