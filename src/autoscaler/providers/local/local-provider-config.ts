/** The `plugin_config` table of the `local` provider (`plugin = "local"`). */
import { z } from 'zod';

import { tcpPort } from '../tcp-port.js';

const SUBNET = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/;

export const localProviderConfigSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9]{1,6}$/, 'must be 1 to 6 lowercase letters or digits')
      .optional()
      .describe(
        'The group name in machine names `flotilla-<name>-<n>`; default: the runner name, shortened. Each manager needs its own.',
      ),
    subnet: z
      .string()
      .regex(SUBNET, 'must be a /24 such as "10.231.0.0/24"')
      .default('10.231.0.0/24')
      .describe(
        'The private /24 the provider creates for its machines; the host side is .1, machines .2 to .254.',
      ),
    docker_port: tcpPort().optional().describe('Engine port; default 2375, or 2376 with tls.'),
    tls: z
      .boolean()
      .default(false)
      .describe('Engines require TLS client certificates (made per group with openssl).'),
    registry_mirrors: z
      .array(z.string().url())
      .default([])
      .describe(
        "Registry mirrors of the machines' engines. A loopback mirror (http://127.0.0.1:PORT) is forwarded from the host side of the subnet, so machines reach it.",
      ),
    insecure_registries: z.array(z.string()).default([]).describe('Extra insecure registries (host:port).'),
    forward_host_ports: z
      .array(tcpPort())
      .default([])
      .describe(
        "Ports of the subnet's host side (.1) that jobs on the machines' per-job networks reach at the machine's own address (a `socat` per port in every machine), e.g. the S3 cache server's; jobs name it with `extra_hosts = [\"NAME:host-gateway\"]` (see the provider's readme).",
      ),
    storage_driver: z.string().default('vfs').describe("The engines' storage driver."),
    state_dir: z
      .string()
      .default('/var/lib/flotilla/machines')
      .describe('Where machines keep their data roots, logs and certificates.'),
    run_dir: z.string().default('/run/flotilla').describe('Where machines keep exec roots and pidfiles.'),
    max_size: z.number().int().min(1).max(253).default(16).describe('The most machines of this group.'),
    node_exporter: z
      .boolean()
      .default(false)
      .describe(
        "Run Debian's `prometheus-node-exporter` in every machine on its address and `node_exporter_port`; the manager's `/-/discovery/targets` then lists it.",
      ),
    node_exporter_port: tcpPort()
      .default(9100)
      .describe("The node exporter's port on each machine's address."),
    boot_timeout: z
      .number()
      .positive()
      .default(60)
      .describe('Seconds a machine may stay `creating` before it is reported as `timeout`.'),
  })
  .strict();

export type LocalProviderConfig = z.output<typeof localProviderConfigSchema>;

export interface LocalLayout {
  group: string;
  prefix: string;
  bridge: string;
  /** The first three octets, e.g. `10.231.0`. */
  net: string;
  hostAddress: string;
  port: number;
}

/** Names and addresses derived from the config. PURE. */
export function localLayout(config: LocalProviderConfig, runnerName: string): LocalLayout {
  const group =
    config.name ??
    (runnerName
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 6) ||
      'fleet');
  const net = config.subnet.replace(/\.0\/24$/, '');
  return {
    group,
    prefix: `flotilla-${group}-`,
    bridge: `flbr-${group}`,
    net,
    hostAddress: `${net}.1`,
    port: config.docker_port ?? (config.tls ? 2376 : 2375),
  };
}

/** Machine n (2..254) of the group: namespace, host veth, address. PURE. */
export function machineNames(
  layout: LocalLayout,
  n: number,
): { id: string; hostVeth: string; address: string } {
  return { id: `${layout.prefix}${n}`, hostVeth: `flv-${layout.group}-${n}`, address: `${layout.net}.${n}` };
}

/** The machine number of an id of this group, or null. PURE. */
export function machineNumber(layout: LocalLayout, id: string): number | null {
  if (!id.startsWith(layout.prefix)) return null;
  const n = Number(id.slice(layout.prefix.length));
  return Number.isInteger(n) && n >= 2 && n <= 254 ? n : null;
}
