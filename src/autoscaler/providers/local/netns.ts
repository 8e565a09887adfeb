/**
 * Network namespaces as machines: a Linux bridge on the host holds the provider's private /24 (the
 * host side is `.1`), and each machine is a namespace with a veth pair whose host end is on the
 * bridge and whose inner end is `eth0` with the machine's own address. Thin wrappers over `ip`; no
 * decisions here.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const NETNS_DIR = '/var/run/netns';

/** Runs `ip ARGS`; rejects with ip's own message. */
export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { timeout: 30_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

async function linkExists(name: string): Promise<boolean> {
  try {
    await ip('link', 'show', 'dev', name);
    return true;
  } catch {
    return false;
  }
}

/** Creates the bridge with the host-side address (idempotent). */
export async function ensureBridge(bridge: string, hostCidr: string): Promise<void> {
  if (!(await linkExists(bridge))) {
    try {
      await ip('link', 'add', bridge, 'type', 'bridge');
    } catch (err) {
      if (!(await linkExists(bridge))) throw err;
    }
  }
  const addrs = await ip('-o', 'addr', 'show', 'dev', bridge);
  if (!addrs.includes(` ${hostCidr} `)) await ip('addr', 'replace', hostCidr, 'dev', bridge);
  await ip('link', 'set', bridge, 'up');
}

export async function deleteBridge(bridge: string): Promise<void> {
  if (await linkExists(bridge)) await ip('link', 'del', bridge);
}

export interface MachineNetwork {
  namespace: string;
  /** Host end of the veth pair (≤ 15 characters). */
  hostVeth: string;
  bridge: string;
  /** The machine's address with prefix, e.g. `10.231.7.5/24`. */
  cidr: string;
  gateway: string;
}

/** Creates the namespace, the veth pair on the bridge, eth0 with the address, lo and a default route. */
export async function createMachineNetwork(net: MachineNetwork): Promise<void> {
  const peer = `${net.hostVeth}p`.slice(-15);
  await ip('netns', 'add', net.namespace);
  await ip('link', 'add', net.hostVeth, 'type', 'veth', 'peer', 'name', peer);
  await ip('link', 'set', peer, 'netns', net.namespace);
  await ip('link', 'set', net.hostVeth, 'master', net.bridge, 'up');
  const inside = (...args: string[]): Promise<string> => ip('-n', net.namespace, ...args);
  await inside('link', 'set', peer, 'name', 'eth0');
  await inside('addr', 'add', net.cidr, 'dev', 'eth0');
  await inside('link', 'set', 'eth0', 'up');
  await inside('link', 'set', 'lo', 'up');
  await inside('route', 'add', 'default', 'via', net.gateway);
  // A new namespace inherits the host's forwarding setting; machines never route between networks.
  await run('nsenter', [
    `--net=${NETNS_DIR}/${net.namespace}`,
    'sh',
    '-c',
    'echo 0 > /proc/sys/net/ipv4/ip_forward',
  ]);
}

/** Deletes the namespace (its veth pair goes with it) and a host veth left behind; gone is fine. */
export async function deleteMachineNetwork(namespace: string, hostVeth: string): Promise<void> {
  if ((await listNamespaces('')).includes(namespace)) await ip('netns', 'del', namespace);
  if (await linkExists(hostVeth)) await ip('link', 'del', hostVeth).catch(() => undefined);
}

/** Names of namespaces starting with `prefix`. */
export async function listNamespaces(prefix: string): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).filter((n) => n.startsWith(prefix)).sort();
  } catch {
    return [];
  }
}

/** When the namespace was created (its bind-mount file's change time). */
export async function namespaceCreatedAt(namespace: string): Promise<Date | null> {
  try {
    return (await stat(`${NETNS_DIR}/${namespace}`)).ctime;
  } catch {
    return null;
  }
}

/** Process ids whose network namespace is `namespace` (dockerd, containerd, shims, containers). */
export async function pidsInNamespace(namespace: string): Promise<number[]> {
  let inode: number;
  try {
    inode = (await stat(`${NETNS_DIR}/${namespace}`)).ino;
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await stat(`/proc/${entry}/ns/net`)).ino === inode) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/** Mount points at or below `dir` (deepest first), from /proc/self/mountinfo. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points = text
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}
