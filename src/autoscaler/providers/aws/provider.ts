/**
 * The `aws` provider: EC2 instances in one region (see readme.md). Instances are named by the
 * provider (`flotilla-<group>-<random>`, the machine id and the `Name` tag) and tagged with their
 * group in the RunInstances request itself (TagSpecifications), which carries a ClientToken: a
 * launch whose answer is lost is asked again as the same launch, and if it still goes unanswered
 * the name is returned as created and the listing by tag finds it. Spot launches refused for
 * capacity fall back to on-demand when `spot_fallback` is on.
 */
import { randomBytes } from 'node:crypto';

import type { Instance } from '@aws-sdk/client-ec2';

import type { Logger } from '../../../shared/logger.js';
import { silentLogger } from '../../../shared/logger.js';
import {
  cloudGroupName,
  removeEach,
  roomFor,
  settleAll,
  throwIfNoneCreated,
  usedBeforeInit,
} from '../batch.js';
import { engineConnectInfo, initCloudProvider, machineUserData, requireEngine } from '../machine-engine.js';
import {
  providerErrorKind,
  type ConnectInfo,
  type InstanceGroup,
  type ProviderFactory,
} from '../provider.js';
import { createEc2Api, ec2Code, SPOT_REFUSALS, type Ec2Api } from './api.js';
import { runInstancesInput, type LaunchOf } from './body.js';
import { awsProviderConfigSchema, parseAwsConfig, type AwsProviderConfig } from './config.js';
import { createAwsInventory } from './inventory.js';

export { instanceAddress, machineName } from './inventory.js';

/** Prints the instance's public IPv4 address from the instance metadata service (IMDSv2). */
export const AWS_PUBLIC_IP =
  'T=$(curl -sf -m 2 -X PUT -H \'X-aws-ec2-metadata-token-ttl-seconds: 60\' http://169.254.169.254/latest/api/token) && curl -sf -m 2 -H "X-aws-ec2-metadata-token: $T" http://169.254.169.254/latest/meta-data/public-ipv4';

export interface AwsProviderOptions {
  config: AwsProviderConfig;
  runnerName: string;
}

/** Launches one instance: spot first when allowed, on demand when spot capacity is refused. */
async function launch(
  api: Ec2Api,
  config: AwsProviderConfig,
  l: Omit<LaunchOf, 'spot' | 'fallback'>,
  logger: Logger,
): Promise<Instance> {
  try {
    return await api.run(runInstancesInput(config, { ...l, spot: config.spot }));
  } catch (err) {
    if (!config.spot || !config.spot_fallback || !SPOT_REFUSALS.has(ec2Code(err))) throw err;
    logger.warn({ err, machine: l.name }, 'spot capacity refused; launching on demand');
    return api.run(runInstancesInput(config, { ...l, spot: false, fallback: true }));
  }
}

export function createAwsProvider(options: AwsProviderOptions): InstanceGroup {
  const { config, runnerName } = options;
  const group = cloudGroupName(config.name, runnerName);
  let api: Ec2Api | null = null;
  let logger: Logger = silentLogger();
  let now = (): Date => new Date();
  const cloud = { provider: 'aws', group, config, api: createEc2Api };
  const client = (): Ec2Api => api ?? usedBeforeInit('aws');
  const inv = createAwsInventory({ config, group, api: client, now: () => now() });

  /** Creates one instance; resolves its name, also when the answer was lost (the listing will tell). */
  async function createOne(): Promise<string> {
    const name = `flotilla-${group}-${randomBytes(4).toString('hex')}`;
    const publicIp = config.use_private_ip ? undefined : AWS_PUBLIC_IP;
    const userData = await machineUserData(config, name, config.user_data, publicIp);
    try {
      inv.remember(await launch(client(), config, { name, group, runnerName, userData }, logger));
      return name;
    } catch (err) {
      const status = (err as { status?: number }).status ?? 0;
      const kind = providerErrorKind(err);
      if (kind === 'timeout' || (kind === 'api' && status >= 500)) {
        logger.warn({ err, machine: name }, 'RunInstances not answered; the listing by tag will tell');
        return name;
      }
      throw err;
    }
  }

  async function removeOne(name: string): Promise<string> {
    const id = await inv.instanceId(name);
    if (id === null) return name;
    inv.deleting.add(name);
    try {
      await client().terminate([id]);
    } catch (err) {
      if (ec2Code(err) !== 'InvalidInstanceID.NotFound') throw err;
    } finally {
      inv.deleting.delete(name);
    }
    inv.forget(name);
    return name;
  }

  return {
    async init(deps) {
      ({ logger, now, api } = await initCloudProvider(deps, cloud));
      return { id: `aws/${config.region}/${group}`, maxSize: config.max_size, version: '1' };
    },
    async update(report) {
      const states = await Promise.all((await inv.listAll()).map((i) => inv.state(i)));
      for (const s of states) report(s);
    },
    async increase(count) {
      const n = await roomFor(count, config.max_size, group, async () => (await inv.listAll()).length);
      const { done, failures } = await settleAll(Array.from({ length: n }, () => createOne()));
      for (const err of failures) logger.warn({ err }, 'instance launch failed');
      throwIfNoneCreated(done, failures);
      return done;
    },
    decrease: (ids) => removeEach(ids, removeOne, logger, 'instance termination failed'),
    async connectInfo(id): Promise<ConnectInfo> {
      return engineConnectInfo(id, await inv.address(id), config, inv.zone(id));
    },
    async heartbeat(id) {
      await requireEngine(await inv.address(id), config, `instance ${id}`);
    },
    async shutdown() {},
  };
}

export const awsProviderFactory = {
  name: 'aws',
  configDocs: {
    schema: awsProviderConfigSchema,
    intro:
      'Amazon EC2. Set a launch template, or `image_id` and `instance_type`. See `docs/providers/aws.md` (IAM permissions, credential chain, user data, a complete config).',
  },
  parseConfig: (raw, context) => ({ config: parseAwsConfig(raw), runnerName: context.runnerName }),
  create: (options) => createAwsProvider(options),
} satisfies ProviderFactory<AwsProviderOptions>;
