/**
 * A Prometheus node exporter per machine (Debian's `prometheus-node-exporter`), started inside the
 * machine's network namespace with `nsenter --net=` and listening on the machine's own address, so
 * one scrape target per machine shows what that machine's network sees. Detached like the engine:
 * a restarted manager finds it running (adopts it) and starts it again only when it is gone. The
 * machine's removal stops it (SIGTERM, then the namespace-wide SIGKILL of dockerd.ts).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { processAlive } from '../../../shared/process-alive.js';
import { NETNS_DIR } from './netns.js';
import { spawnDetached } from './spawn-detached.js';

/** The program Debian's package installs. */
export const NODE_EXPORTER_BINARY = 'prometheus-node-exporter';

export interface NodeExporterSpec {
  namespace: string;
  /** Folder of this machine's data (the exporter's log goes here). */
  dir: string;
  /** Folder of this machine's pidfiles. */
  runDir: string;
  address: string;
  port: number;
}

const PIDFILE = 'node-exporter.pid';

/** The `nsenter` command line that runs the exporter in the machine. PURE. */
export function nodeExporterArgs(spec: NodeExporterSpec): string[] {
  return [
    `--net=${NETNS_DIR}/${spec.namespace}`,
    NODE_EXPORTER_BINARY,
    `--web.listen-address=${spec.address}:${spec.port}`,
    // The host's systemd and the package's textfile folder are not the machine's.
    '--no-collector.systemd',
    '--no-collector.textfile',
  ];
}

/** `host:port` Prometheus scrapes. PURE. */
export function nodeExporterTarget(spec: Pick<NodeExporterSpec, 'address' | 'port'>): string {
  return `${spec.address}:${spec.port}`;
}

async function readPid(runDir: string): Promise<number> {
  const text = await readFile(join(runDir, PIDFILE), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

/** True when the pidfile's process lives and is the exporter (not a reused pid). */
export async function nodeExporterRunning(runDir: string): Promise<boolean> {
  const pid = await readPid(runDir);
  if (pid === 0) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes(NODE_EXPORTER_BINARY);
}

/** Starts the exporter detached (log in `dir/node-exporter.log`, pid in `runDir`); returns its pid. */
export async function startNodeExporter(spec: NodeExporterSpec): Promise<number> {
  await mkdir(spec.dir, { recursive: true });
  await mkdir(spec.runDir, { recursive: true });
  const pid = await spawnDetached('nsenter', nodeExporterArgs(spec), join(spec.dir, 'node-exporter.log'));
  await writeFile(join(spec.runDir, PIDFILE), `${pid}\n`);
  return pid;
}

/** Starts the exporter unless it already runs (a machine adopted after a manager restart). */
export async function ensureNodeExporter(spec: NodeExporterSpec): Promise<boolean> {
  if (await nodeExporterRunning(spec.runDir)) return false;
  await startNodeExporter(spec);
  return true;
}

/** SIGTERM to the exporter and a short wait; gone already is fine. */
export async function stopNodeExporter(runDir: string): Promise<void> {
  if (!(await nodeExporterRunning(runDir))) return;
  const pid = await readPid(runDir);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (!processAlive(pid)) return;
  }
}
