/**
 * One Docker Engine per machine: `dockerd` started inside the machine's network namespace with
 * `nsenter --net=` (not `ip netns exec`, which remounts /sys and breaks dockerd's cgroup checks), with
 * its own data root, exec root, pidfile and containerd namespace, listening on the machine's address.
 * The daemon is detached from the manager, so a manager restart finds its machines still running.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { NETNS_DIR, mountsBelow, pidsInNamespace } from './netns.js';
import { spawnDetached } from './spawn-detached.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { processAlive } from '../../../shared/process-alive.js';

const run = promisify(execFile);

export interface DockerdSpec {
  namespace: string;
  /** Folder of this machine's data (`data`, `dockerd.log`, `certs`). */
  dir: string;
  /** Folder for the exec root and pidfile (short: unix socket paths are limited). */
  runDir: string;
  address: string;
  port: number;
  storageDriver: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  /** Folder with ca.pem, server-cert.pem, server-key.pem: the engine then requires client certificates. */
  tlsDir?: string;
}

/** `flag path` pairs, in order, for files named relative to `dir`. PURE. */
function pathFlags(dir: string, files: Record<string, string>): string[] {
  return Object.entries(files).flatMap(([flag, name]) => [flag, join(dir, name)]);
}

/** The dockerd command line of a machine. PURE. */
export function dockerdArgs(spec: DockerdSpec): string[] {
  const args = [
    `--net=${NETNS_DIR}/${spec.namespace}`,
    'dockerd',
    '--host',
    `tcp://${spec.address}:${spec.port}`,
    ...pathFlags(spec.dir, { '--data-root': 'data' }),
    ...pathFlags(spec.runDir, { '--exec-root': 'exec', '--pidfile': 'dockerd.pid' }),
    '--containerd-namespace',
    spec.namespace,
    '--containerd-plugins-namespace',
    `${spec.namespace}-plugins`,
    '--iptables=false',
    '--ip-masq=false',
    // Job networks stay apart: with IP forwarding on (and no iptables), a job could route to another
    // job's network. The coordinator is forwarded per job instead (see the readme).
    '--ip-forward=false',
    '--bridge=none',
    // `host-gateway` (extra_hosts) is the machine's own address, which job networks reach
    `--host-gateway-ip=${spec.address}`,
    `--storage-driver=${spec.storageDriver}`,
  ];
  for (const m of spec.registryMirrors) args.push('--registry-mirror', m);
  for (const r of spec.insecureRegistries) args.push('--insecure-registry', r);
  if (spec.tlsDir) {
    const files = { '--tlscacert': 'ca.pem', '--tlscert': 'server-cert.pem', '--tlskey': 'server-key.pem' };
    args.push('--tlsverify', ...pathFlags(spec.tlsDir, files));
  } else {
    args.push('--tls=false');
  }
  return args;
}

/** Starts the engine detached (its log in `dir/dockerd.log`); does not wait for it to answer. */
export async function startDockerd(spec: DockerdSpec): Promise<number> {
  await mkdir(join(spec.dir, 'data'), { recursive: true });
  await mkdir(join(spec.runDir, 'exec'), { recursive: true });
  return spawnDetached('nsenter', dockerdArgs(spec), join(spec.dir, 'dockerd.log'));
}

/** The last lines of a machine's dockerd log, for error messages. */
export async function dockerdLogTail(dir: string, lines = 15): Promise<string> {
  try {
    return (await readFile(join(dir, 'dockerd.log'), 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function waitGone(pids: number[], attempts: number): Promise<number[]> {
  let left = pids;
  for (let i = 0; i < attempts && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = left.filter(processAlive);
  }
  return left;
}

/**
 * Stops everything running in the machine: SIGTERM to dockerd (it stops containerd and the
 * containers), then SIGKILL to whatever is left in the namespace.
 */
export async function stopMachineProcesses(spec: Pick<DockerdSpec, 'namespace' | 'runDir'>): Promise<void> {
  const pidText = await readFile(join(spec.runDir, 'dockerd.pid'), 'utf8').catch(() => '');
  const pid = Number(pidText.trim());
  if (pid > 0 && processAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    await waitGone([pid], 100);
  }
  let rest = await pidsInNamespace(spec.namespace);
  for (const p of rest) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rest = await waitGone(rest, 50);
  if (rest.length > 0) throw new Error(`processes ${rest.join(', ')} in ${spec.namespace} did not end`);
}

/** Kills the machine's engine outright (SIGKILL to everything in it): a machine dying, for tests. */
export async function killMachineProcesses(namespace: string): Promise<void> {
  for (const p of await pidsInNamespace(namespace)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Unmounts what the engine left mounted below `dir` and removes the folder. */
export async function removeMachineFiles(dir: string): Promise<void> {
  for (const point of await mountsBelow(dir)) {
    await run('umount', ['-l', point]).catch(() => undefined);
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
