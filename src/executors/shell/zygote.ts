/**
 * A launcher whose processes are forked by one long-lived bash (the zygote) instead of by this
 * Node process. Each `child_process.spawn` forks the whole runner, and the fork's cost grows with
 * its memory: 13 ms of the main thread from a 250 MB process on a machine with slow page faults,
 * a quarter of a 20-job `flotilla run`. A bash of a few MB forks in well under a millisecond, on
 * another core.
 *
 * The protocol, per launch:
 * - this process writes a request file (mode 0600 in a private directory: it holds the
 *   environment, which never goes into an argv) and its id on the zygote's stdin;
 * - the zygote sources the file: it connects to this process's loopback listener, sends the run's
 *   secret token and the id, and forks the command (one fork per launch) in a process group of its
 *   own, with stdin, stdout and stderr on the connection; it prints `pid ID PGID` on its stdout;
 * - when the command ends the zygote prints `exit ID CODE` (128 + N for signal N, as a shell says
 *   it) and kills what is left in the group, as the direct launcher's callers do after an exit.
 *
 * When the zygote cannot connect (a bash built without /dev/tcp) it prints `fail ID` before it
 * starts anything, and the launch and every later one go to the direct launcher. The zygote ends
 * when this process does (end of its stdin); processes it started live on as detached children do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, renameSync, rmSync, unlink, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import {
  directLauncher,
  killGroup,
  type ExitListener,
  type LaunchedProcess,
  type Launcher,
  type LaunchRequest,
} from './launcher.js';
import { exportCommands, requestScript, ZYGOTE_SCRIPT } from './zygote-scripts.js';

export interface ZygoteOptions {
  /**
   * Start the zygote's bash at the first launch, which goes to the direct launcher (default:
   * at once). A run of one process then forks this process once, as without a zygote.
   */
  lazy?: boolean;
  /**
   * The address the zygote connects to (default 127.0.0.1, where the listener is). Tests give
   * another to see a failed connection go to the direct launcher.
   */
  connectHost?: string;
}

type State = 'waiting' | 'started' | 'exited' | 'closed' | 'failed';

/** A process the zygote started: its output comes on its own connection. */
class ZygoteProcess implements LaunchedProcess {
  readonly stdin: PassThrough | null;
  readonly stdout = new PassThrough();
  readonly stderr = null;
  readonly #events = new EventEmitter();
  #state: State = 'waiting';
  #pgid: number | undefined;
  #pendingSignal: NodeJS.Signals | undefined;
  #socketDone = false;
  /** When the launch moved to the direct launcher. */
  #direct: LaunchedProcess | null = null;
  /** Set when the zygote died while this process ran: its status will never come. */
  #orphaned: Error | null = null;

  readonly #closed: () => void;

  readonly #outputEnded: () => void;

  /**
   * `closed`: called when the process is closed or failed (the launcher forgets it);
   * `outputEnded`: when its connection ends (it has most likely exited).
   */
  constructor(stdin: 'pipe' | 'ignore', closed: () => void, outputEnded: () => void) {
    this.stdin = stdin === 'pipe' ? new PassThrough() : null;
    this.#closed = closed;
    this.#outputEnded = outputEnded;
  }

  killGroup(signal: NodeJS.Signals): void {
    if (this.#direct) return this.#direct.killGroup(signal);
    if (this.#state === 'waiting') this.#pendingSignal = signal;
    else if (this.#state === 'started') killGroup(this.#pgid, signal);
  }

  onExit(listener: ExitListener): void {
    this.#events.on('exit', listener);
  }

  onClose(listener: () => void): void {
    this.#events.on('close', listener);
  }

  onError(listener: (err: Error) => void): void {
    this.#events.on('error', listener);
  }

  /** The process's connection: output to stdout, stdin to it. */
  attach(socket: net.Socket, rest: Buffer): void {
    if (rest.length > 0) this.stdout.write(rest);
    socket.pipe(this.stdout, { end: false });
    this.stdin?.pipe(socket);
    const done = (): void => {
      if (this.#socketDone) return;
      this.#socketDone = true;
      if (this.#state === 'started') this.#outputEnded();
      this.#maybeClose();
      this.#maybeOrphanEnd();
    };
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', () => undefined);
  }

  started(pgid: number): void {
    if (this.#state !== 'waiting') return killGroup(pgid, 'SIGKILL');
    this.#state = 'started';
    this.#pgid = pgid;
    if (this.#pendingSignal) killGroup(pgid, this.#pendingSignal);
  }

  exited(code: number): void {
    if (this.#state !== 'started' && this.#state !== 'waiting') return;
    this.#state = 'exited';
    this.#events.emit('exit', code, null);
    this.#maybeClose();
  }

  /** It could not be started: nothing ran. */
  failed(err: Error): void {
    if (this.#state !== 'waiting') return;
    this.#state = 'failed';
    this.#closed();
    this.#events.emit('error', err);
  }

  /** Started by the direct launcher instead (nothing ran in the zygote). */
  redirect(request: LaunchRequest): void {
    if (this.#state !== 'waiting') return;
    this.#state = 'failed';
    this.#closed();
    const direct = directLauncher.launch(request);
    this.#direct = direct;
    if (this.stdin && direct.stdin) this.stdin.pipe(direct.stdin);
    direct.stdout.pipe(this.stdout, { end: false });
    direct.stderr?.pipe(this.stdout, { end: false });
    direct.onExit((code, signal) => this.#events.emit('exit', code, signal));
    direct.onError((err) => this.#events.emit('error', err));
    direct.onClose(() => {
      this.stdout.end();
      this.#events.emit('close');
    });
    if (this.#pendingSignal) direct.killGroup(this.#pendingSignal);
  }

  /** The zygote died: a started process ends, once its output has, as an error (no status). */
  orphaned(err: Error): void {
    if (this.#state !== 'started') return;
    this.#orphaned = err;
    this.#maybeOrphanEnd();
  }

  #maybeOrphanEnd(): void {
    if (!this.#orphaned || !this.#socketDone || this.#state !== 'started') return;
    this.#state = 'failed';
    this.#closed();
    this.stdout.end();
    this.#events.emit('error', this.#orphaned);
  }

  #maybeClose(): void {
    if (this.#state !== 'exited' || !this.#socketDone) return;
    this.#state = 'closed';
    this.#closed();
    this.stdout.end(() => this.#events.emit('close'));
  }
}

export interface Zygote extends Launcher {
  /** The zygote's own process id (for tests and diagnostics). */
  readonly pid: number | undefined;
  /** Stops the zygote (processes it started keep running) and removes its directory. */
  close(): void;
}

/** Splits a stream into lines. */
function onLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let carry = '';
  stream.on('data', (chunk: Buffer) => {
    const text = carry + chunk.toString('latin1');
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}

class ZygoteLauncher implements Zygote {
  readonly #token = randomBytes(16).toString('hex');
  readonly #dir: string;
  readonly #processes = new Map<number, { process: ZygoteProcess; request: LaunchRequest; sent: boolean }>();
  readonly #server: net.Server;
  /** The listener's port once the zygote said it is ready; null when it cannot be used. */
  readonly #ready: Promise<number | null>;
  #zygoteReady: (ready: boolean) => void = () => undefined;
  #bash: ChildProcess | null = null;
  readonly #host: string;
  #usable = true;
  #nextId = 1;

  constructor(dir: string, options: ZygoteOptions) {
    this.#dir = dir;
    this.#host = options.connectHost ?? '127.0.0.1';
    mkdirSync(dir, { mode: 0o700 });
    this.#server = net.createServer((socket) => this.#accept(socket));
    this.#server.on('error', () => this.#stop());
    const port = new Promise<number | null>((resolve) => {
      this.#server.listen(0, '127.0.0.1', () => {
        const address = this.#server.address();
        resolve(typeof address === 'object' && address ? address.port : null);
      });
      this.#server.once('error', () => resolve(null));
    });
    const ready = new Promise<boolean>((resolve) => (this.#zygoteReady = resolve));
    this.#ready = Promise.all([port, ready]).then(([p, r]) => (r ? p : null));
    this.#server.unref();
    if (!options.lazy) this.#bash = this.#spawnBash();
  }

  get pid(): number | undefined {
    return this.#bash?.pid;
  }

  launch(request: LaunchRequest): LaunchedProcess {
    const exports = this.#usable ? exportCommands(request.env) : null;
    if (exports === null) return directLauncher.launch(request);
    if (!this.#bash) {
      // lazy: this launch costs the one fork of this process either way; the next ones do not
      this.#bash = this.#spawnBash();
      return directLauncher.launch(request);
    }
    const id = this.#nextId++;
    const process = new ZygoteProcess(
      request.stdin,
      () => this.#processes.delete(id),
      () => this.#wake(),
    );
    this.#processes.set(id, { process, request, sent: false });
    void this.#ready.then((port) => this.#request(id, port, request, exports));
    return process;
  }

  close(): void {
    this.#stop();
    this.#server.close();
    this.#bash?.stdin?.end();
    this.#bash = null;
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #request(id: number, port: number | null, request: LaunchRequest, exports: string): void {
    const entry = this.#processes.get(id);
    if (!entry) return;
    const stdin = this.#bash?.stdin;
    if (port === null || !this.#usable || !stdin || stdin.destroyed) {
      this.#processes.delete(id);
      return entry.process.redirect(request);
    }
    // written whole under another name, then renamed: the zygote never sources half a file
    const partial = join(this.#dir, `.${id}`);
    const script = requestScript(id, `${this.#host}/${port}`, this.#token, request, exports);
    writeFileSync(partial, script, { mode: 0o600 });
    renameSync(partial, this.#requestFile(id));
    entry.sent = true;
    stdin.write(`${id}\n`);
  }

  #spawnBash(): ChildProcess {
    const bash = spawn('bash', ['--noprofile', '--norc', '-c', ZYGOTE_SCRIPT, 'flotilla-zygote', this.#dir], {
      env: {},
      detached: true,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    bash.unref();
    bash.stdin?.on('error', () => this.#stop());
    (bash.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    if (bash.stdout) {
      (bash.stdout as unknown as { unref?: () => void }).unref?.();
      onLines(bash.stdout, (line) => this.#line(line));
    }
    // before `ready` (an older bash, or none): nothing was sent, launches go to the direct launcher
    bash.on('error', () => this.#lost());
    bash.on('exit', () => this.#lost());
    return bash;
  }

  /** No more launches through the zygote (those under way go on). */
  #stop(): void {
    this.#usable = false;
  }

  /**
   * The zygote is gone: a launch it has not answered may never be read, and one it read may still
   * start; each fails now, and a `pid` line that comes later gets its group killed.
   */
  #lost(): void {
    this.#stop();
    this.#zygoteReady(false);
    for (const { process, request, sent } of [...this.#processes.values()]) {
      if (!sent) continue;
      process.failed(new Error(`the process launcher stopped before ${request.command} started`));
      process.orphaned(
        new Error(`the process launcher stopped while ${request.command} ran: its exit status is unknown`),
      );
    }
  }

  #line(line: string): void {
    if (line === 'ready') return this.#zygoteReady(true);
    const [kind, idText, value] = line.split(' ');
    const id = Number(idText);
    const entry = this.#processes.get(id);
    if (!entry) {
      // started after its launch gave up (the zygote stopped first): nothing may run
      if (kind === 'pid') killGroup(Number(value), 'SIGKILL');
      return;
    }
    const { process, request } = entry;
    if (kind === 'pid') {
      this.#forget(id);
      process.started(Number(value));
    } else if (kind === 'exit') process.exited(Number(value));
    else if (kind === 'nocwd') {
      this.#forget(id);
      process.failed(missingDirectory(request));
    } else if (kind === 'fail') {
      this.#forget(id);
      this.#stop();
      process.redirect(request);
    }
  }

  /** Has the zygote look for ended commands now. */
  #wake(): void {
    const stdin = this.#bash?.stdin;
    if (stdin && !stdin.destroyed) stdin.write('\n');
  }

  #forget(id: number): void {
    unlink(this.#requestFile(id), () => undefined);
  }

  #requestFile(id: number): string {
    return join(this.#dir, `${id}.req`);
  }

  /** A connection for a launch: `TOKEN ID\n`, then the process's output. */
  #accept(socket: net.Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(10);
      if (end < 0) {
        if (head.length > 128) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const [token, idText] = head.subarray(0, end).toString('latin1').split(' ');
      const entry = token === this.#token ? this.#processes.get(Number(idText)) : undefined;
      if (!entry) return void socket.destroy();
      entry.process.attach(socket, head.subarray(end + 1));
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  }
}

function missingDirectory(request: LaunchRequest): Error {
  const err = new Error(
    `spawn ${request.command} ENOENT (no directory ${request.cwd})`,
  ) as NodeJS.ErrnoException;
  err.code = 'ENOENT';
  err.path = request.command;
  return err;
}

/**
 * Starts a zygote whose request files go to `dir` (created, mode 0700; removed by `close`). Call
 * it early: the one fork of this process it costs is smaller then.
 */
export function startZygote(dir: string, options: ZygoteOptions = {}): Zygote {
  return new ZygoteLauncher(dir, options);
}
