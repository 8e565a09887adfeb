/** Child processes of the bench: spawn, wait for output, stop, and sample their memory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { CLI } from './paths.js';

/** Every child still running, so an interrupted bench can stop them all (`stopAll`). */
const live = new Set<BenchProcess>();

export function stopAll(): void {
  for (const p of live) p.child.kill('SIGKILL');
}

export class BenchProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  /** Resolves once the child's stdout and stderr are closed (all its output collected). */
  readonly closed: Promise<void>;

  constructor(
    command: string,
    args: string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string; keepOutput?: boolean } = {},
  ) {
    this.child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = options.keepOutput ?? true;
    const collect = (d: Buffer): void => {
      if (!keep) return;
      this.output += d.toString();
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    live.add(this);
    this.closed = new Promise((resolve) => this.child.on('close', () => resolve()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        live.delete(this);
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /**
   * Waits (bounded) until the output matches `re`. A child that exited may still have output in its
   * pipes (the exit event can come before the last data): that output is read before giving up.
   */
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const m = this.output.match(re);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        await Promise.race([this.closed, sleep(Math.max(0, Math.min(1000, until - Date.now())))]);
        const last = this.output.match(re);
        if (last) return last;
        break;
      }
      await sleep(50);
    }
    throw new Error(`process output never matched ${re}:\n${this.output.slice(-3000)}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export function flotillaProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
): BenchProcess {
  return new BenchProcess(process.execPath, [...nodeArgs, CLI, ...args], { env });
}

export function nodeProcess(script: string, args: string[], env: NodeJS.ProcessEnv = {}): BenchProcess {
  return new BenchProcess(process.execPath, [script, ...args], { env });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resident memory of a process in MiB (current and peak), from /proc; null when gone. */
export function readRss(pid: number): { rssMiB: number; hwmMiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** CPU time (user + system, s) a process has used so far, from /proc; null when gone. */
export function readCpuSeconds(pid: number): number | null {
  const times = readCpuTimes(pid);
  return times === null ? null : times.user + times.system;
}

/** User and system (kernel) CPU seconds of a process so far, from /proc/PID/stat. */
export function readCpuTimes(pid: number): { user: number; system: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces) start at ") "
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      user: Number(fields[11]) / CLOCK_TICKS_PER_SECOND,
      system: Number(fields[12]) / CLOCK_TICKS_PER_SECOND,
    };
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Samples the RSS of some processes every `intervalMs`; `stop()` gives each one's peak sample. */
export class RssSampler {
  readonly #peaks = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly pids: number[],
    intervalMs = 100,
  ) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    for (const pid of this.pids) {
      const rss = readRss(pid);
      if (rss) this.#peaks.set(pid, Math.max(this.#peaks.get(pid) ?? 0, rss.rssMiB));
    }
  }

  stop(): Map<number, number> {
    clearInterval(this.#timer);
    this.sample();
    return this.#peaks;
  }
}
