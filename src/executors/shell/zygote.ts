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
 * - the zygote sources the file in a forked subshell (the wrapper), which connects to this
 *   process's loopback listener, sends the run's secret token and the id, then starts the command
 *   in a process group of its own with stdin, stdout and stderr on the connection;
 * - the wrapper prints `pid ID PGID` on the zygote's stdout, waits for the command, prints
 *   `exit ID CODE` (128 + N for signal N, as a shell says it) and kills what is left in the
 *   group, as the direct launcher's callers do after an exit.
 *
 * When the wrapper cannot connect (a bash built without /dev/tcp) it prints `fail ID` before it
 * starts anything, and the launch and every later one go to the direct launcher. The zygote ends
 * when this process does (end of its stdin); processes it started live on as detached children do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync, unlink, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { bashQuote } from './bash-script.js';
import {
  directLauncher,
  killGroup,
  type ExitListener,
  type LaunchedProcess,
  type Launcher,
  type LaunchRequest,
} from './launcher.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names bash will not export as they are (read-only, or changing how the wrapper runs). */
const NOT_EXPORTABLE = new Set(['SHELLOPTS', 'BASHOPTS', 'UID', 'EUID', 'PPID', 'GROUPS', 'IFS']);

/** Variables the zygote's bash exports of its own (its environment is empty). */
const ZYGOTE_EXPORTS = 'PWD SHLVL OLDPWD';

/** Reads ids on stdin; each request is sourced in a forked subshell (the wrapper). */
const ZYGOTE_SCRIPT = ['while IFS= read -r id; do', '  ( . "$1/$id" ) &', 'done'].join('\n');

/** The environment as bash `export` commands, or null when bash cannot reproduce it exactly. */
export function exportCommands(env: NodeJS.ProcessEnv): string | null {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || key === '_') continue;
    if (!IDENTIFIER.test(key) || key.startsWith('BASH') || NOT_EXPORTABLE.has(key)) return null;
    if (value.includes('\0')) return null;
    parts.push(`${key}=${bashQuote(value)}`);
  }
  return parts.length > 0 ? `export ${parts.join(' ')}` : ':';
}

/** The wrapper's script for one launch (see the protocol above). */
export function wrapperScript(
  id: number,
  address: string,
  token: string,
  request: LaunchRequest,
  exports: string,
): string {
  const command = [request.command, ...request.args].map(bashQuote).join(' ');
  const stdin = request.stdin === 'pipe' ? '<&3' : '</dev/null';
  const cwd = bashQuote(request.cwd);
  return [
    `[ -d ${cwd} ] || { printf 'nocwd %s\\n' ${id}; exit 0; }`,
    `exec 3<>/dev/tcp/${address} 2>/dev/null || { printf 'fail %s\\n' ${id}; exit 0; }`,
    `printf '%s %s\\n' ${token} ${id} >&3`,
    // job control: the command's subshell leads a process group of its own
    'set -m',
    // only the command's process is in its directory (the wrapper stays where the zygote is)
    `( cd -- ${cwd} || exit 127; unset ${ZYGOTE_EXPORTS}; ${exports}; exec -- ${command} ) ${stdin} >&3 2>&3 &`,
    'pid=$!',
    `printf 'pid %s %s\\n' ${id} "$pid"`,
    'exec 3>&-',
    'wait "$pid"; rc=$?',
    `printf 'exit %s %s\\n' ${id} "$rc"`,
    'kill -9 -"$pid" 2>/dev/null',
    '',
  ].join('\n');
}

export interface ZygoteOptions {
  /**
   * The address the wrappers connect to (default 127.0.0.1, where the listener is). Tests give
   * another to see a failed connection go to the direct launcher.
   */
  connectHost?: string;
}

type State = 'waiting' | 'started' | 'exited' | 'closed' | 'failed';

/** A process the zygote started: its output comes on the wrapper's connection. */
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

  readonly #closed: () => void;

  /** `closed`: called when the process is closed or failed (the launcher forgets it). */
  constructor(stdin: 'pipe' | 'ignore', closed: () => void) {
    this.stdin = stdin === 'pipe' ? new PassThrough() : null;
    this.#closed = closed;
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

  /** The wrapper's connection: output to stdout, stdin to it. */
  attach(socket: net.Socket, rest: Buffer): void {
    if (rest.length > 0) this.stdout.write(rest);
    socket.pipe(this.stdout, { end: false });
    this.stdin?.pipe(socket);
    const done = (): void => {
      if (this.#socketDone) return;
      this.#socketDone = true;
      this.#maybeClose();
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
  readonly #processes = new Map<number, { process: ZygoteProcess; request: LaunchRequest }>();
  readonly #server: net.Server;
  readonly #port: Promise<number | null>;
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
    this.#port = new Promise((resolve) => {
      this.#server.listen(0, '127.0.0.1', () => {
        const address = this.#server.address();
        resolve(typeof address === 'object' && address ? address.port : null);
      });
      this.#server.once('error', () => resolve(null));
    });
    this.#server.unref();
    this.#bash = this.#spawnBash();
  }

  get pid(): number | undefined {
    return this.#bash?.pid;
  }

  launch(request: LaunchRequest): LaunchedProcess {
    const exports = this.#usable ? exportCommands(request.env) : null;
    if (exports === null) return directLauncher.launch(request);
    const id = this.#nextId++;
    const process = new ZygoteProcess(request.stdin, () => this.#processes.delete(id));
    this.#processes.set(id, { process, request });
    void this.#port.then((port) => this.#request(id, port, request, exports));
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
    writeFileSync(
      join(this.#dir, String(id)),
      wrapperScript(id, `${this.#host}/${port}`, this.#token, request, exports),
      {
        mode: 0o600,
      },
    );
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
    for (const { process, request } of [...this.#processes.values()])
      process.failed(new Error(`the process launcher stopped before ${request.command} started`));
  }

  #line(line: string): void {
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

  #forget(id: number): void {
    unlink(join(this.#dir, String(id)), () => undefined);
  }

  /** A connection from a wrapper: `TOKEN ID\n`, then the process's output. */
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
