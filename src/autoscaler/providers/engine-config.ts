/**
 * The config keys every cloud provider shares for the Docker Engine on its machines (port, TLS
 * client certificates, coordinator forwarding, node exporter) and the group's size limit, worded
 * with the cloud's own nouns (instances, droplets...).
 */
import { z } from 'zod';

import { tcpPort } from './tcp-port.js';

export interface EngineKeyNouns {
  /** What the cloud calls its machines, plural ("instances", "droplets"). */
  machines: string;
  /** The same, singular. */
  machine: string;
  /** What a group holds, plural, for `max_size`. */
  members: string;
}

export function engineConfigKeys(n: EngineKeyNouns) {
  return {
    docker_port: tcpPort()
      .optional()
      .describe(`The ${n.machines}' engine port; default 2375, or 2376 with \`tls\`.`),
    docker_tls_cert_path: z
      .string()
      .optional()
      .describe(
        'Folder with ca.pem, cert.pem, key.pem when the engines require TLS client certificates made by you (docker_port then usually 2376); see `tls` for certificates made by the manager.',
      ),
    tls: z
      .boolean()
      .default(false)
      .describe(
        `Per-${n.machine} TLS made by the manager (Docker Machine's way): a CA and a client certificate in \`tls_dir\`, and in every ${n.machine}'s user data a boot script that signs its server certificate for its addresses; the engines must require client certificates (docs/providers/). Not with \`docker_tls_cert_path\`.`,
      ),
    tls_dir: z
      .string()
      .default('/var/lib/flotilla/tls')
      .describe(
        "With `tls`: the manager's CA (`ca.pem`, `ca-key.pem` mode 0600, made once) and client certificate (`client/`).",
      ),
    forward_coordinator: z
      .boolean()
      .default(false)
      .describe(
        `The ${n.machines}' job networks have no route out (engines started with --iptables=false): forward the coordinator per job.`,
      ),
    node_exporter_port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(0)
      .describe(`A node exporter on every ${n.machine} at this port (0 = none), listed as a metrics target.`),
    max_size: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(`The most ${n.members} of this group (0 = no limit).`),
  };
}

/** The keys of a cloud provider's API calls: each call's timeout and how often an answer is retried. */
export function apiCallKeys(retried: string) {
  return {
    request_timeout: z.number().positive().default(30).describe('Seconds per API request.'),
    retries: z.number().int().min(0).default(4).describe(retried),
  };
}
