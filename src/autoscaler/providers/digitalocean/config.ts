/** The `plugin_config` table of the `digitalocean` provider (`plugin = "digitalocean"`): droplets. */
import { z } from 'zod';

import { apiCallKeys, engineConfigKeys } from '../engine-config.js';

export const digitaloceanProviderConfigSchema = z
  .object({
    region: z.string().min(1).describe('Region slug, e.g. `nyc1`.'),
    size: z.string().default('s-2vcpu-4gb').describe('Droplet size slug.'),
    image: z
      .string()
      .default('docker-20-04')
      .describe('Image slug or id (the Docker 1-Click image by default).'),
    name: z
      .string()
      .regex(/^[a-z][a-z0-9]{0,11}$/, 'must be 1 to 12 lowercase letters or digits, starting with a letter')
      .optional()
      .describe(
        'The group name: droplets are `flotilla-<name>-<random>` tagged `flotilla-<name>`; default: the runner name, shortened. Each manager needs its own.',
      ),
    tags: z.array(z.string()).default([]).describe('Extra tags of every droplet.'),
    ssh_keys: z
      .array(z.union([z.string(), z.number().int()]))
      .default([])
      .describe('SSH key ids or fingerprints added to the droplets.'),
    user_data: z
      .string()
      .optional()
      .describe(
        'cloud-init user data, e.g. the script that starts the Docker Engine (docs/providers/digitalocean.md).',
      ),
    vpc_uuid: z.string().optional().describe('The VPC of the droplets (the region default when unset).'),
    monitoring: z.boolean().default(false).describe("DigitalOcean's monitoring agent."),
    token_file: z
      .string()
      .optional()
      .describe('A file holding the API token; default: the `DIGITALOCEAN_TOKEN` environment variable.'),
    api_endpoint: z
      .string()
      .url()
      .default('https://api.digitalocean.com/v2/')
      .describe('API base URL (an emulator in tests).'),
    use_private_ip: z
      .boolean()
      .default(true)
      .describe('Reach droplets on their VPC (private) address; false: their public address.'),
    ...engineConfigKeys({ machines: 'droplets', machine: 'droplet', members: 'droplets' }),
    boot_timeout: z
      .number()
      .positive()
      .default(300)
      .describe('Seconds an active droplet may take until its engine answers before it counts as `timeout`.'),
    ...apiCallKeys(
      'Retries of 429 answers (after `Retry-After` / `ratelimit-reset`) and of 5xx on safe calls.',
    ),
  })
  .strict();

export type DigitaloceanProviderConfig = z.output<typeof digitaloceanProviderConfigSchema>;

/** The tag every droplet of the group carries (listing and reconciling filter on it). PURE. */
export function groupTag(group: string): string {
  return `flotilla-${group}`;
}
