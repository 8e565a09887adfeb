/** A real Prometheus server (Debian's `prometheus`) on a free loopback port, for tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

import { until } from './helpers.js';

export interface PrometheusProcess {
  url: string;
  output(): string;
  api<T>(pathAndQuery: string): Promise<T>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Writes `config` (and the rule files it names, given as name → YAML) into `dir` and starts Prometheus. */
export async function startPrometheus(
  dir: string,
  config: string,
  ruleFiles: Record<string, string>,
): Promise<PrometheusProcess> {
  await writeFile(path.join(dir, 'prometheus.yml'), config);
  for (const [name, text] of Object.entries(ruleFiles)) await writeFile(path.join(dir, name), text);
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error('prometheus is not installed: run deploy/prometheus/test-env.sh')
          : err,
      ),
    );
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await spawned;
  const url = `http://127.0.0.1:${port}`;
  const prometheus: PrometheusProcess = {
    url,
    output: () => output,
    async api<T>(pathAndQuery: string): Promise<T> {
      const res = await fetch(`${url}${pathAndQuery}`);
      const body = (await res.json()) as { status: string; data: T };
      if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${JSON.stringify(body)}`);
      return body.data;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  await until('prometheus to be ready', async () => {
    if (child.exitCode !== null) throw new Error(`prometheus exited:\n${output}`);
    const res = await fetch(`${url}/-/ready`);
    return res.ok ? true : undefined;
  }).catch(async (err: unknown) => {
    await prometheus.stop();
    throw new Error(`${String(err)}\n${output}`);
  });
  return prometheus;
}
