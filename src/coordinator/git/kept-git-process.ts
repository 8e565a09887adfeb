import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { FlotillaError } from '../../shared/errors.js';
import { gitEnv, type GitRunnerOptions } from './run-git.js';

interface Pending<A> {
  resolve: (answer: A) => void;
  reject: (error: Error) => void;
}

const STDERR_KEPT = 2000;

/**
 * A long-lived git command for one repository that takes requests on stdin and answers them in
 * order on stdout (`cat-file --batch-command`, `update-ref --stdin`). It holds no reference on
 * the event loop while nothing is asked of it; it ends when `close` is called, when it has been
 * idle `idleMs`, when a request outlives the command timeout (killed), or when the parent exits
 * (stdin closes). Subclasses say how an answer is read from the buffered output.
 */
export abstract class KeptGitProcess<A> {
  protected buffer: Buffer = Buffer.alloc(0);
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Array<Pending<A>> = [];
  private stderr = '';
  private timer: NodeJS.Timeout | undefined;
  private exited = false;

  constructor(
    private readonly runner: GitRunnerOptions,
    dir: string,
    private readonly args: readonly string[],
    private readonly idleMs: number,
    private readonly onExit: () => void,
  ) {
    this.child = spawn(runner.gitBinary, [`--git-dir=${dir}`, ...args], {
      env: gitEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-STDERR_KEPT);
    });
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (error) => this.fail(error));
    // 'close', not 'exit': it comes once stderr is read to its end, so a refused request's error
    // carries git's reason (after 'exit' the last stderr chunk can still be on its way).
    this.child.on('close', () => this.fail(null));
    this.setIdle();
  }

  get alive(): boolean {
    return !this.exited;
  }

  close(): void {
    if (!this.exited) this.child.stdin.end();
  }

  /** Writes `input` and resolves with the answer `takeAnswer` reads for it. */
  protected ask(input: string): Promise<A> {
    if (this.exited) return Promise.reject(this.failure(null));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.setBusy();
      this.child.stdin.write(input);
    });
  }

  /** The next answer when it is whole in `buffer` (consuming it), or undefined to wait for more. */
  protected abstract takeAnswer(): { answer: A } | undefined;

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.pending.length > 0) {
      const taken = this.takeAnswer();
      if (taken === undefined) break;
      this.pending.shift()?.resolve(taken.answer);
    }
    if (this.pending.length === 0) this.setIdle();
  }

  private setBusy(): void {
    clearTimeout(this.timer);
    this.child.ref();
    setRef(this.child.stdout, true);
    this.timer = setTimeout(() => this.kill(), this.runner.timeoutMs);
  }

  private setIdle(): void {
    clearTimeout(this.timer);
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) setRef(stream, false);
    this.timer = setTimeout(() => this.close(), this.idleMs);
    this.timer.unref();
  }

  private kill(): void {
    this.stderr = `${this.stderr}\n(timed out after ${this.runner.timeoutMs} ms)`.trim();
    this.child.kill('SIGKILL');
  }

  private fail(error: Error | null): void {
    if (this.exited) return;
    this.exited = true;
    clearTimeout(this.timer);
    const failure = this.failure(error);
    for (const p of this.pending.splice(0)) p.reject(failure);
    this.onExit();
  }

  private failure(cause: Error | null): FlotillaError {
    const command = this.args[0] ?? '';
    const detail = this.stderr.trim() || 'it exited';
    return new FlotillaError('FLO_ERR_GIT', `git ${command} failed: ${detail}`, {
      cause,
      details: { command },
    });
  }
}

/** Pipes are sockets: they keep the event loop alive unless unreferenced. */
function setRef(stream: object, on: boolean): void {
  const handle = stream as { ref?: () => void; unref?: () => void };
  if (on) handle.ref?.();
  else handle.unref?.();
}
