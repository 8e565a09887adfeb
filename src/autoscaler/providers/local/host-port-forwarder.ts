/**
 * Host ports the machines' job networks reach (`forward_host_ports`): a per-job network has no route
 * out of its machine (no NAT, no IP forwarding), but the machine's own address is local to the
 * namespace, so its containers reach it through their gateway. Every machine therefore runs, inside
 * its namespace, one `socat` per port listening on `<machine address>:<port>` and connecting to the
 * host side of the subnet (`<.1>:<port>`), e.g. the S3 cache server. The engine's `host-gateway` is
 * the machine's address (`--host-gateway-ip`), so a job names it `extra_hosts = ["name:host-gateway"]`
 * and keeps the server's own `host:port` in URLs (pre-signed S3 URLs sign the Host). Detached like
 * the engine; the machine's removal ends them (the namespace-wide SIGKILL of dockerd.ts).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { NETNS_DIR } from './netns.js';
import { spawnDetached } from './spawn-detached.js';

export interface HostPortSpec {
  namespace: string;
  /** Folder of this machine's data (the forwarders' logs go here). */
  dir: string;
  address: string;
  hostAddress: string;
  port: number;
}

/** The `nsenter` command line of one forwarder. PURE. */
export function hostPortForwarderArgs(spec: HostPortSpec): string[] {
  return [
    `--net=${NETNS_DIR}/${spec.namespace}`,
    'socat',
    `TCP-LISTEN:${spec.port},bind=${spec.address},reuseaddr,fork`,
    `TCP:${spec.hostAddress}:${spec.port}`,
  ];
}

/** Starts the machine's forwarders, one per port (logs in `dir/forward-<port>.log`). */
export async function startHostPortForwarders(
  spec: Omit<HostPortSpec, 'port'>,
  ports: readonly number[],
): Promise<void> {
  await mkdir(spec.dir, { recursive: true });
  for (const port of ports) {
    await spawnDetached(
      'nsenter',
      hostPortForwarderArgs({ ...spec, port }),
      join(spec.dir, `forward-${port}.log`),
    );
  }
}
