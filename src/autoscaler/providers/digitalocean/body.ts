/** The `POST /v2/droplets` body of one droplet, tagged with its group from birth. PURE. */
import { groupTag, type DigitaloceanProviderConfig } from './config.js';

export function dropletBody(
  config: DigitaloceanProviderConfig,
  name: string,
  group: string,
  userData: string | undefined = config.user_data,
): Record<string, unknown> {
  return {
    name,
    region: config.region,
    size: config.size,
    image: /^\d+$/.test(config.image) ? Number(config.image) : config.image,
    ssh_keys: config.ssh_keys,
    backups: false,
    ipv6: false,
    monitoring: config.monitoring,
    tags: [...new Set([groupTag(group), 'flotilla-managed', ...config.tags])],
    ...(userData ? { user_data: userData } : {}),
    ...(config.vpc_uuid ? { vpc_uuid: config.vpc_uuid } : {}),
  };
}
