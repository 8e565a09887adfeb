/**
 * One process for two stages that follow each other: `get_sources`' checkout and clean, then the
 * first script step of `step_script` (for runners with shared sources, such as `flotilla run`'s,
 * where the checkout is the only process of `get_sources`). Each spawn from the runner's large Node
 * process costs it more CPU than the checkout itself; the stages, their trace sections, their exit
 * codes, signals and environments stay as with two processes:
 *
 * - a bash (the script's bash, with the script's environment) runs the checkout in a subshell whose
 *   environment is switched to git's (`envSwitch`, sent on stdin), with stderr merged into stdout, then prints a
 *   marker line and waits on stdin;
 * - the first stage ends at the marker (or at the process's exit when the checkout failed);
 * - `continue` sends `go` and the bash replaces itself (`exec`, no fork) with the script's bash, its
 *   stdin from /dev/null as before; `dismiss` ends it when the script stage does not run.
 *
 * The process is its own process group, killed as a whole on abort like `runProcess`' processes.
 */
import { randomUUID } from 'node:crypto';

import { writeBorrowed, type JobOutput } from '../executor.js';
import { bashQuote, bashSettable } from './bash-script.js';
import { directLauncher, type LaunchedProcess, type Launcher } from './launcher.js';
import { readPipe } from './pipe-reader.js';
import { exitCodeOf } from './process.js';

type Env = NodeJS.ProcessEnv;

/**
 * The bash commands that turn environment `from` into `to` (`unset` and `export`), or null when
 * `from` holds a variable that makes one process unfaithful (see bashSettable) or a name bash
 * cannot handle.
 */
export function envSwitch(from: Env, to: Env): string | null {
  const commands: string[] = [];
  for (const [key, value] of Object.entries(from)) {
    if (value === undefined) continue;
    if (!bashSettable(key)) return null;
    if (to[key] === undefined) commands.push(`unset ${key}`);
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined || from[key] === value) continue;
    if (!bashSettable(key)) return null;
    commands.push(`export ${key}=${bashQuote(value)}`);
  }
  return commands.join('; ');
}

/**
 * `$1` sha, `$2` script file, `$3` marker, the rest `git clean`'s flags (none: no clean). The
 * switch of environments comes on stdin, ended by a NUL (never in argv, where every user of the
 * host can read it). No shell variable is assigned outside the subshell, so a job variable of any
 * name reaches the script as it is.
 */
const CHAIN_SCRIPT = [
  `( IFS= read -r -d '' FLOTILLA_CHAIN_SWITCH || exit 1; eval "$FLOTILLA_CHAIN_SWITCH"; unset FLOTILLA_CHAIN_SWITCH`,
  `  git checkout -f -q "$1" || exit; shift 3; [ "$#" -eq 0 ] || git clean "$@" ) 2>&1 || exit`,
  `printf '%s\\n' "$3"`,
  'read -r _ || exit 0',
  'exec bash --noprofile --norc "$2" </dev/null',
].join('\n');

export interface ChainedCheckout {
  sha: string;
  cleanArgs: readonly string[];
  /** The first script step's file, run by `bash --noprofile --norc FILE` as the script stage. */
  scriptFile: string;
  cwd: string;
  /** The script's environment (the process's own). */
  env: Env;
  /** git's environment for the checkout. */
  gitEnv: Env;
  /** Time between SIGTERM and SIGKILL on abort. */
  killGraceMs?: number;
  /** What starts the process (default: a detached child of this process). */
  launcher?: Launcher;
}

export interface ChainedProcess {
  /** Runs the checkout; resolves with its exit code (0 once the marker is seen). */
  first(output: JobOutput, signal: AbortSignal): Promise<number>;
  /** Runs the script; resolves with its exit code, rejects with `signal.reason` when aborted. */
  continue(output: JobOutput, signal: AbortSignal): Promise<number>;
  /** Ends the process when the script stage will not run. */
  dismiss(): void;
}

/** Splits stdout at the marker line: before it to the first stage, after it to the second. */
function markerSplitter(marker: Buffer, toFirst: (b: Buffer) => void, found: (rest: Buffer) => void) {
  let carry = Buffer.alloc(0);
  let done = false;
  return {
    push(chunk: Buffer): boolean {
      if (done) return false;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const at = data.indexOf(marker);
      if (at >= 0) {
        done = true;
        if (at > 0) toFirst(data.subarray(0, at));
        found(data.subarray(at + marker.length));
        return true;
      }
      const keep = Math.min(data.length, marker.length - 1);
      if (data.length > keep) toFirst(data.subarray(0, data.length - keep));
      carry = Buffer.from(data.subarray(data.length - keep));
      return true;
    },
    flush(): void {
      if (!done && carry.length > 0) toFirst(carry);
      carry = Buffer.alloc(0);
      done = true;
    },
  };
}

/** Where output goes and which stage's promise the process's end settles. */
interface Phase {
  output: JobOutput;
  signal: AbortSignal;
  resolve(code: number): void;
  reject(err: unknown): void;
}

/** Starts the process for `checkout` when the environments allow it; null otherwise. */
export function startChainedCheckout(checkout: ChainedCheckout): ChainedProcess | null {
  const switchCommands = envSwitch(checkout.env, checkout.gitEnv);
  if (switchCommands === null) return null;
  return new Chain(checkout, switchCommands);
}

class Chain implements ChainedProcess {
  readonly #checkout: ChainedCheckout;
  readonly #switchCommands: string;
  readonly #marker = `FLOTILLA-CHAIN-${randomUUID()}`;
  #child: LaunchedProcess | null = null;
  #phase: Phase | null = null;
  #held: Buffer[] = [];
  #exitCode = -1;
  #closed = false;
  #killTimer: NodeJS.Timeout | undefined;
  #splitter: ReturnType<typeof markerSplitter> | null = null;

  constructor(checkout: ChainedCheckout, switchCommands: string) {
    this.#checkout = checkout;
    this.#switchCommands = switchCommands;
  }

  first(output: JobOutput, signal: AbortSignal): Promise<number> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<number>((resolve, reject) => {
      this.#phase = { output, signal, resolve, reject };
      this.#listen(signal);
      this.#splitter = markerSplitter(
        Buffer.from(`${this.#marker}\n`),
        (b) => writeBorrowed(output, b),
        (rest) => this.#markerSeen(rest),
      );
      this.#spawn();
    });
  }

  continue(output: JobOutput, signal: AbortSignal): Promise<number> {
    if (signal.aborted) {
      this.dismiss();
      return Promise.reject(signal.reason);
    }
    return new Promise<number>((resolve, reject) => {
      for (const chunk of this.#held.splice(0)) output.write(chunk);
      if (this.#closed) return resolve(this.#exitCode);
      this.#phase = { output, signal, resolve, reject };
      this.#listen(signal);
      this.#child?.stdin?.end('go\n');
    });
  }

  dismiss(): void {
    if (this.#closed || !this.#child) return;
    this.#child.stdin?.end();
    this.#child.killGroup('SIGKILL');
  }

  #spawn(): void {
    const { sha, scriptFile, cleanArgs, cwd, env } = this.#checkout;
    const child = (this.#checkout.launcher ?? directLauncher).launch({
      command: 'bash',
      args: [
        '--noprofile',
        '--norc',
        '-c',
        CHAIN_SCRIPT,
        'bash',
        sha,
        scriptFile,
        this.#marker,
        ...cleanArgs,
      ],
      cwd,
      env,
      stdin: 'pipe',
    });
    this.#child = child;
    child.stdin?.on('error', () => undefined);
    child.stdin?.write(`${this.#switchCommands}\0`);
    // views of one reused read buffer: copied by whatever keeps them (see #write)
    readPipe(child.stdout, (chunk) => {
      if (this.#splitter?.push(chunk)) return;
      this.#write(chunk);
    });
    if (child.stderr) readPipe(child.stderr, (chunk) => this.#write(chunk));
    child.onExit((code, sig) => {
      this.#exitCode = exitCodeOf(code, sig);
      child.killGroup('SIGKILL');
    });
    child.onError((err) => this.#settle(() => this.#phase?.reject(err)));
    child.onClose(() => {
      this.#closed = true;
      this.#splitter?.flush();
      this.#settle((phase) =>
        phase.signal.aborted ? phase.reject(phase.signal.reason) : phase.resolve(this.#exitCode),
      );
    });
  }

  /** Output while no stage listens (between the marker and `continue`) is held for the script. */
  #write(chunk: Buffer): void {
    if (this.#phase) writeBorrowed(this.#phase.output, chunk);
    else this.#held.push(Buffer.from(chunk));
  }

  #markerSeen(rest: Buffer): void {
    if (rest.length > 0) this.#held.push(Buffer.from(rest));
    this.#settle((phase) => phase.resolve(0));
  }

  #settle(how: (phase: Phase) => void): void {
    const phase = this.#phase;
    if (!phase) return;
    this.#phase = null;
    clearTimeout(this.#killTimer);
    phase.signal.removeEventListener('abort', this.#onAbort);
    how(phase);
  }

  readonly #onAbort = (): void => {
    const child = this.#child;
    child?.killGroup('SIGTERM');
    this.#killTimer = setTimeout(() => child?.killGroup('SIGKILL'), this.#checkout.killGraceMs ?? 5000);
  };

  #listen(signal: AbortSignal): void {
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }
}
