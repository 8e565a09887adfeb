/**
 * Real `flotilla` processes for end-to-end tests: the built CLI (`bin/flotilla.js`) started as
 * child processes over loopback, with their output captured for diagnostics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TestApi } from '../../harness/api-client.js';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/flotilla.js');

export class FlotillaProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Waits until the output matches `re` (bounded); returns the match. */
  async waitFor(re: RegExp, attempts = 300): Promise<RegExpMatchArray> {
    for (let i = 0; i < attempts; i++) {
      const m = this.output.match(re);
      if (m) return m;
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`process output never matched ${re}:\n${this.output.slice(-4000)}`);
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface CoordinatorProcess {
  proc: FlotillaProcess;
  url: string;
  api: TestApi;
}

export async function startCoordinatorProcess(
  dataDir: string,
  extraArgs: string[] = [],
): Promise<CoordinatorProcess> {
  const proc = new FlotillaProcess([
    'coordinator',
    '--listen',
    '127.0.0.1:0',
    '--data-dir',
    dataDir,
    '--log-format',
    'json',
    ...extraArgs,
  ]);
  const m = await proc.waitFor(/listening on (http:\/\/\S+)/);
  const url = m[1] ?? '';
  const token = (await readFile(path.join(dataDir, 'root-token'), 'utf8')).trim();
  return { proc, url, api: new TestApi(url, token) };
}

export interface RunnerConfigOptions {
  url: string;
  token: string;
  buildsDir: string;
  concurrent?: number;
  listenAddress?: string;
  extraGlobal?: string;
  extraRunner?: string;
  name?: string;
  /** Default `shell`. */
  executor?: string;
}

export function runnerConfigToml(o: RunnerConfigOptions): string {
  return [
    `concurrent = ${o.concurrent ?? 4}`,
    'check_interval = 1',
    'log_level = "debug"',
    'log_format = "json"',
    'shutdown_timeout = 10',
    o.listenAddress ? `listen_address = "${o.listenAddress}"` : '',
    o.extraGlobal ?? '',
    '',
    '[[runners]]',
    `  name = "${o.name ?? 'e2e'}"`,
    `  url = "${o.url}"`,
    `  token = "${o.token}"`,
    `  executor = "${o.executor ?? 'shell'}"`,
    `  builds_dir = "${o.buildsDir}"`,
    o.extraRunner ?? '',
    '',
  ].join('\n');
}

export async function startRunnerProcess(
  configPath: string,
  config: RunnerConfigOptions,
  env: NodeJS.ProcessEnv = {},
): Promise<FlotillaProcess> {
  await writeFile(configPath, runnerConfigToml(config));
  return new FlotillaProcess(['runner', 'run', '--config', configPath], env);
}
