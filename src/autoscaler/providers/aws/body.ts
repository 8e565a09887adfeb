/**
 * The RunInstances request of one instance, tagged with its group from birth (TagSpecifications)
 * and carrying a ClientToken, so a repeated request is the same launch. PURE.
 */
import type { RunInstancesCommandInput, Tag } from '@aws-sdk/client-ec2';

import type { AwsProviderConfig } from './config.js';

export const GROUP_TAG = 'flotilla-group';

export interface LaunchOf {
  /** The machine id: `flotilla-<group>-<hex>`, the `Name` tag. */
  name: string;
  group: string;
  runnerName: string;
  spot: boolean;
  /** The on-demand launch after spot capacity was refused (its own ClientToken). */
  fallback?: boolean;
  /** The user data as plain text (`user_data`, with the engine's TLS boot lines when `tls`). */
  userData?: string | undefined;
}

/** The instance's tags: its name, group, runner, the managed mark, then `tags`. PURE. */
export function instanceTags(config: AwsProviderConfig, l: LaunchOf): Tag[] {
  const own: Record<string, string> = {
    Name: l.name,
    [GROUP_TAG]: l.group,
    'flotilla-runner': l.runnerName,
    'flotilla-managed': 'true',
  };
  const all = { ...config.tags, ...own };
  return Object.entries(all).map(([Key, Value]) => ({ Key, Value }));
}

/** The ClientToken of a launch: the machine id, `-od` added for the on-demand fallback. PURE. */
export function clientToken(l: LaunchOf): string {
  return l.fallback ? `${l.name}-od` : l.name;
}

function launchTemplate(config: AwsProviderConfig): RunInstancesCommandInput['LaunchTemplate'] {
  if (config.launch_template_id)
    return { LaunchTemplateId: config.launch_template_id, Version: config.launch_template_version };
  if (config.launch_template_name)
    return { LaunchTemplateName: config.launch_template_name, Version: config.launch_template_version };
  return undefined;
}

function instanceProfile(ref: string | undefined): RunInstancesCommandInput['IamInstanceProfile'] {
  if (!ref) return undefined;
  return ref.startsWith('arn:') ? { Arn: ref } : { Name: ref };
}

export function runInstancesInput(config: AwsProviderConfig, l: LaunchOf): RunInstancesCommandInput {
  const tags = instanceTags(config, l);
  const template = launchTemplate(config);
  const profile = instanceProfile(config.iam_instance_profile);
  return {
    MinCount: 1,
    MaxCount: 1,
    ClientToken: clientToken(l),
    ...(template ? { LaunchTemplate: template } : {}),
    ...(config.image_id ? { ImageId: config.image_id } : {}),
    ...(config.instance_type
      ? { InstanceType: config.instance_type as RunInstancesCommandInput['InstanceType'] }
      : {}),
    ...(config.subnet_id ? { SubnetId: config.subnet_id } : {}),
    ...(config.security_group_ids.length > 0 ? { SecurityGroupIds: config.security_group_ids } : {}),
    ...(config.key_name ? { KeyName: config.key_name } : {}),
    ...(profile ? { IamInstanceProfile: profile } : {}),
    ...(l.userData ? { UserData: Buffer.from(l.userData, 'utf8').toString('base64') } : {}),
    ...(l.spot
      ? {
          InstanceMarketOptions: {
            MarketType: 'spot',
            SpotOptions: {
              SpotInstanceType: 'one-time',
              InstanceInterruptionBehavior: 'terminate',
              ...(config.spot_max_price ? { MaxPrice: config.spot_max_price } : {}),
            },
          },
        }
      : {}),
    InstanceInitiatedShutdownBehavior: 'terminate',
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
  };
}
