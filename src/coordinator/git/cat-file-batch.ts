import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { FlotillaError } from '../../shared/errors.js';
import { gitEnv, type GitRunnerOptions } from './run-git.js';

export interface ObjectInfo {
  oid: string;
  type: 'blob' | 'tree' | 'commit' | 'tag';
  size: number;
}

export interface ObjectContents {
  info: ObjectInfo;
  content: Buffer;
}

interface Pending {
  kind: 'info' | 'contents';
  resolve: (answer: ObjectContents | ObjectInfo | null) => void;
  reject: (error: Error) => void;
}

const STDERR_KEPT = 2000;

/**
 * One long-lived `git cat-file --batch-command` for one repository: object lookups and reads
 * without a process per call. Answers come back in the order asked. git resolves refs, loose
 * objects and new packs again on every command, so pushes made by other processes are seen.
 * The process holds no reference on the event loop while nothing is asked of it; it ends when
 * `close` is called, when it has been idle `idleMs`, or when the parent exits (stdin closes).
 */
export class CatFileBatch {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private stderr = '';
  private timer: NodeJS.Timeout | undefined;
  private exited = false;

  constructor(
    private readonly runner: GitRunnerOptions,
    dir: string,
    private readonly idleMs: number,
    private readonly onExit: () => void,
  ) {
    this.child = spawn(runner.gitBinary, [`--git-dir=${dir}`, 'cat-file', '--batch-command'], {
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
    this.child.on('exit', () => this.fail(null));
    this.setIdle();
  }

  /** `<oid> <type> <size>` of what `spec` names, or null when it names nothing. */
  info(spec: string): Promise<ObjectInfo | null> {
    return this.ask('info', spec) as Promise<ObjectInfo | null>;
  }

  /** The object `spec` names with its bytes, or null when it names nothing. */
  contents(spec: string): Promise<ObjectContents | null> {
    return this.ask('contents', spec) as Promise<ObjectContents | null>;
  }

  get alive(): boolean {
    return !this.exited;
  }

  close(): void {
    if (this.exited) return;
    this.child.stdin.end();
  }

  private ask(kind: Pending['kind'], spec: string): Promise<ObjectContents | ObjectInfo | null> {
    if (spec.includes('\n')) return Promise.resolve(null);
    if (this.exited) return Promise.reject(this.failure(null));
    return new Promise((resolve, reject) => {
      this.pending.push({ kind, resolve, reject });
      this.setBusy();
      this.child.stdin.write(`${kind} ${spec}\n`);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.pending.length > 0 && this.takeAnswer()) {
      // each answer taken resolves one request
    }
    if (this.pending.length === 0) this.setIdle();
  }

  /** Resolves the first pending request when its whole answer is buffered. */
  private takeAnswer(): boolean {
    const head = this.pending[0];
    const eol = this.buffer.indexOf(10);
    if (head === undefined || eol < 0) return false;
    const info = parseHeader(this.buffer.subarray(0, eol).toString('utf8'));
    if (info === null || head.kind === 'info') {
      this.buffer = this.buffer.subarray(eol + 1);
      this.pending.shift();
      head.resolve(info);
      return true;
    }
    const end = eol + 1 + info.size;
    if (this.buffer.length < end + 1) return false;
    const content = Buffer.from(this.buffer.subarray(eol + 1, end));
    this.buffer = this.buffer.subarray(end + 1);
    this.pending.shift();
    head.resolve({ info, content });
    return true;
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
    const detail = this.stderr.trim();
    return new FlotillaError('FLO_ERR_GIT', `git cat-file failed${detail ? `: ${detail}` : ': it exited'}`, {
      cause,
      details: { command: 'cat-file' },
    });
  }
}

/** `<oid> <type> <size>`, or `<spec> missing` / `<spec> ambiguous` → null. */
export function parseHeader(line: string): ObjectInfo | null {
  const [oid, type, size, extra] = line.split(' ');
  if (oid === undefined || size === undefined || extra !== undefined || !isObjectType(type)) return null;
  if (!/^[0-9a-f]{40,64}$/.test(oid) || !/^\d+$/.test(size)) return null;
  return { oid, type, size: Number(size) };
}

/** Pipes are sockets: they keep the event loop alive unless unreferenced. */
function setRef(stream: object, on: boolean): void {
  const handle = stream as { ref?: () => void; unref?: () => void };
  if (on) handle.ref?.();
  else handle.unref?.();
}

function isObjectType(type: string | undefined): type is ObjectInfo['type'] {
  return type === 'blob' || type === 'tree' || type === 'commit' || type === 'tag';
}
