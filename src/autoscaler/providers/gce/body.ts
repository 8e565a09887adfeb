/** The instances.insert request body of one machine, from the config. PURE. */
import { projectResource, type GceProviderConfig } from './config.js';

export interface InstanceNaming {
  name: string;
  zone: string;
  group: string;
  /** The instance's metadata (`metadata`, its startup script with the engine's TLS boot lines when `tls`). */
  metadata?: Record<string, string>;
}

function metadataItems(metadata: Record<string, string>): { items: { key: string; value: string }[] } {
  return { items: Object.entries(metadata).map(([key, value]) => ({ key, value })) };
}

/** The labels every instance carries: the group (what listing and reconciling filter on) first. */
export function instanceLabels(config: GceProviderConfig, group: string): Record<string, string> {
  return { ...config.labels, 'flotilla-group': group, 'flotilla-managed': 'true' };
}

export function instanceBody(config: GceProviderConfig, n: InstanceNaming): Record<string, unknown> {
  const labels = instanceLabels(config, n.group);
  const overrides: Record<string, unknown> = { name: n.name, labels };
  const metadata = n.metadata ?? config.metadata;
  if (Object.keys(metadata).length > 0) overrides.metadata = metadataItems(metadata);
  if (config.instance_template) return overrides;
  return {
    ...overrides,
    machineType: `zones/${n.zone}/machineTypes/${config.machine_type}`,
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: {
          sourceImage: projectResource(config.project, config.image),
          diskSizeGb: String(config.disk_size_gb),
          diskType: `zones/${n.zone}/diskTypes/${config.disk_type}`,
        },
      },
    ],
    networkInterfaces: [
      {
        network: projectResource(config.project, config.network),
        ...(config.subnetwork ? { subnetwork: projectResource(config.project, config.subnetwork) } : {}),
        accessConfigs: config.use_internal_ip ? [] : [{ type: 'ONE_TO_ONE_NAT', name: 'External NAT' }],
      },
    ],
    tags: { items: config.tags },
    scheduling: config.preemptible
      ? { provisioningModel: 'SPOT', preemptible: true, instanceTerminationAction: 'DELETE' }
      : { provisioningModel: 'STANDARD', automaticRestart: true, onHostMaintenance: 'MIGRATE' },
    serviceAccounts: config.service_account
      ? [{ email: config.service_account, scopes: ['https://www.googleapis.com/auth/cloud-platform'] }]
      : [],
  };
}
