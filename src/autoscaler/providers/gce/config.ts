/** The `plugin_config` table of the `gce` provider (`plugin = "gce"`): Compute Engine instances. */
import { z } from 'zod';

import { apiCallKeys, engineConfigKeys } from '../engine-config.js';

const ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;

export const gceProviderConfigSchema = z
  .object({
    project: z.string().min(1).describe('The Google Cloud project id that holds the instances.'),
    zones: z
      .array(z.string().regex(ZONE, 'must be a zone such as "us-east1-c"'))
      .min(1)
      .describe(
        'Zones to create instances in, spread evenly; a zone that fails (quota, capacity, errors) is skipped for `zone_cooldown`.',
      ),
    name: z
      .string()
      .regex(/^[a-z][a-z0-9]{0,11}$/, 'must be 1 to 12 lowercase letters or digits, starting with a letter')
      .optional()
      .describe(
        'The group name: instances are `flotilla-<name>-<random>` labelled `flotilla-group=<name>`; default: the runner name, shortened. Each manager needs its own.',
      ),
    instance_template: z
      .string()
      .optional()
      .describe(
        'An instance template (`global/instanceTemplates/NAME` or a full URL); when set, machine_type and image are optional overrides.',
      ),
    machine_type: z.string().default('e2-standard-2').describe('Machine type, e.g. `e2-standard-2`.'),
    image: z
      .string()
      .default('projects/debian-cloud/global/images/family/debian-12')
      .describe('Boot disk source image (or image family URL).'),
    disk_size_gb: z.number().int().min(10).default(30).describe('Boot disk size in GB.'),
    disk_type: z.string().default('pd-balanced').describe('Boot disk type.'),
    network: z.string().default('global/networks/default').describe('VPC network.'),
    subnetwork: z.string().optional().describe('Subnetwork (`regions/REGION/subnetworks/NAME`).'),
    use_internal_ip: z
      .boolean()
      .default(true)
      .describe(
        'Reach the machines on their internal IP (the manager runs in the VPC); false: an ephemeral external IP is attached and used.',
      ),
    labels: z.record(z.string()).default({}).describe('Extra labels of every instance.'),
    tags: z.array(z.string()).default([]).describe('Network tags (firewall rules), e.g. `flotilla-docker`.'),
    metadata: z
      .record(z.string())
      .default({})
      .describe(
        'Instance metadata, e.g. `startup-script` that starts the Docker Engine (see docs/providers/gce.md).',
      ),
    service_account: z
      .string()
      .optional()
      .describe("The instances' own service account email (none when unset)."),
    preemptible: z.boolean().default(false).describe('Spot (preemptible) instances.'),
    credentials_file: z
      .string()
      .optional()
      .describe(
        'Service account key JSON; unset: application default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server).',
      ),
    api_endpoint: z
      .string()
      .url()
      .default('https://compute.googleapis.com/compute/v1/')
      .describe('Compute API base URL (a private endpoint, or an emulator in tests).'),
    ...engineConfigKeys({ machines: 'machines', machine: 'machine', members: 'instances' }),
    boot_timeout: z
      .number()
      .positive()
      .default(300)
      .describe(
        'Seconds a RUNNING instance may take until its engine answers before it counts as `timeout`.',
      ),
    operation_timeout: z
      .number()
      .positive()
      .default(120)
      .describe('Seconds to wait for an insert or delete zone operation.'),
    ...apiCallKeys('Retries of rate-limited (429, rateLimitExceeded) and 5xx answers, with backoff.'),
    zone_cooldown: z
      .number()
      .min(0)
      .default(300)
      .describe('Seconds a zone that failed a creation is skipped while another zone can take it.'),
  })
  .strict();

export type GceProviderConfig = z.output<typeof gceProviderConfigSchema>;

/** A full resource URL or a path relative to the project. PURE. */
export function projectResource(project: string, ref: string): string {
  if (/^https?:\/\//.test(ref) || ref.startsWith('projects/')) return ref;
  return `projects/${project}/${ref}`;
}
