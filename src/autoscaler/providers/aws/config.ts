/** The `plugin_config` table of the `aws` provider (`plugin = "aws"`): EC2 instances. */
import { z } from 'zod';

import { apiCallKeys, engineConfigKeys } from '../engine-config.js';
import { checkEngineSettings } from '../machine-engine.js';

export const awsProviderConfigSchema = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be a region such as "us-east-1"')
      .describe('The AWS region of the instances, e.g. `us-east-1`.'),
    name: z
      .string()
      .regex(/^[a-z][a-z0-9]{0,11}$/, 'must be 1 to 12 lowercase letters or digits, starting with a letter')
      .optional()
      .describe(
        'The group name: instances are tagged `Name=flotilla-<name>-<random>` and `flotilla-group=<name>`; default: the runner name, shortened. Each manager needs its own.',
      ),
    launch_template_id: z
      .string()
      .regex(/^lt-[0-9a-f]+$/, 'must be a launch template id such as "lt-0abc..."')
      .optional()
      .describe('A launch template by id (`lt-...`); the keys below override its settings.'),
    launch_template_name: z.string().optional().describe('A launch template by name (instead of the id).'),
    launch_template_version: z
      .string()
      .default('$Default')
      .describe('The launch template version: a number, `$Latest` or `$Default`.'),
    image_id: z
      .string()
      .regex(/^ami-[0-9a-f]+$/, 'must be an AMI id such as "ami-0abc..."')
      .optional()
      .describe('The AMI; required without a launch template.'),
    instance_type: z
      .string()
      .optional()
      .describe('Instance type, e.g. `t3.medium`; required without a launch template.'),
    subnet_id: z.string().optional().describe('The subnet (and so the availability zone) of the instances.'),
    security_group_ids: z
      .array(z.string())
      .default([])
      .describe('Security groups of the instances (they must let the manager reach `docker_port`).'),
    key_name: z.string().optional().describe('An EC2 key pair name for SSH access.'),
    iam_instance_profile: z
      .string()
      .optional()
      .describe("The instances' own instance profile, by name or ARN (needs `iam:PassRole`)."),
    user_data: z
      .string()
      .optional()
      .describe(
        'cloud-init user data as plain text (base64-encoded by the provider), e.g. the script that starts the Docker Engine (docs/providers/aws.md).',
      ),
    tags: z.record(z.string()).default({}).describe('Extra tags of every instance and its volumes.'),
    spot: z.boolean().default(false).describe('Request spot instances.'),
    spot_max_price: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a price such as "0.05"')
      .optional()
      .describe('The most to pay per hour for a spot instance (USD); default: the on-demand price.'),
    spot_fallback: z
      .boolean()
      .default(true)
      .describe(
        'When spot capacity is refused (InsufficientInstanceCapacity, SpotMaxPriceTooLow, MaxSpotInstanceCountExceeded), launch the instance on demand instead.',
      ),
    use_private_ip: z
      .boolean()
      .default(true)
      .describe(
        'Reach the instances on their private IP (the manager runs in the VPC); false: their public IP (the subnet must assign one).',
      ),
    profile: z
      .string()
      .optional()
      .describe(
        'A named profile of the shared config and credentials files; default: `AWS_PROFILE`, else `default`.',
      ),
    credentials_file: z
      .string()
      .optional()
      .describe(
        'The shared credentials file; default: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.',
      ),
    config_file: z
      .string()
      .optional()
      .describe('The shared config file; default: `AWS_CONFIG_FILE`, else `~/.aws/config`.'),
    endpoint: z
      .string()
      .url()
      .optional()
      .describe(
        "The EC2 API endpoint (an EC2-compatible cloud, a VPC endpoint, or an emulator in tests); default: the region's.",
      ),
    ...engineConfigKeys({ machines: 'instances', machine: 'instance', members: 'instances' }),
    boot_timeout: z
      .number()
      .positive()
      .default(300)
      .describe(
        'Seconds a running instance may take until its engine answers before it counts as `timeout`.',
      ),
    ...apiCallKeys(
      'Retries of throttled answers (RequestLimitExceeded, Throttling) and of 5xx and timeouts (every call is safe to repeat: RunInstances carries a ClientToken), with backoff.',
    ),
  })
  .strict();

export type AwsProviderConfig = z.output<typeof awsProviderConfigSchema>;

/** Parses `plugin_config`: a launch template, or an AMI and an instance type. */
export function parseAwsConfig(raw: unknown): AwsProviderConfig {
  const config = awsProviderConfigSchema.parse(raw ?? {});
  if (config.launch_template_id && config.launch_template_name)
    throw new Error('aws: set launch_template_id or launch_template_name, not both');
  const template = config.launch_template_id ?? config.launch_template_name;
  if (!template && (!config.image_id || !config.instance_type))
    throw new Error(
      'aws: set a launch template (launch_template_id or _name), or image_id and instance_type',
    );
  checkEngineSettings('aws', config, 'user_data', config.user_data);
  return config;
}
