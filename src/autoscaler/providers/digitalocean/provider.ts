/**
 * The `digitalocean` provider: droplets in one region (see readme.md). Droplets are named by the
 * provider (`flotilla-<group>-<random>`, the machine id) and tagged `flotilla-<group>` in the create
 * request itself; listing is by tag, so a create whose answer is lost is found again by name, and a
 * droplet no manager knows is removed by the orphan cleaner (GitLab's hanging-droplets-cleaner).
 */
import { randomBytes } from 'node:crypto';

import * as kit from '../cloud-kit.js';
import type { Logger } from '../../../shared/logger.js';
import { silentLogger } from '../../../shared/logger.js';
import {
  providerErrorKind,
  type InstanceGroup,
  type InstanceReport,
  type ProviderFactory,
} from '../provider.js';
import { createDigitaloceanApi, type DigitaloceanApi, type Droplet } from './api.js';
import { dropletBody } from './body.js';
import { digitaloceanProviderConfigSchema, groupTag, type DigitaloceanProviderConfig } from './config.js';

export interface DigitaloceanProviderOptions {
  config: DigitaloceanProviderConfig;
  runnerName: string;
}

/** The address the manager uses for a droplet. PURE. */
export function dropletAddress(d: Droplet, usePrivate: boolean): string | null {
  const want = usePrivate ? 'private' : 'public';
  return d.networks.v4.find((n) => n.type === want)?.ip_address ?? null;
}

/** What a droplet is to the taskscaler: running once its engine answers, creating until boot_timeout. */
async function dropletReport(
  d: Droplet,
  config: DigitaloceanProviderConfig,
  deleting: boolean,
  now: () => Date,
): Promise<InstanceReport> {
  const createdAt = new Date(d.created_at);
  const base = { id: d.name, createdAt };
  if (deleting) return { ...base, state: 'deleting' };
  if (d.status !== 'new' && d.status !== 'active') return { ...base, state: 'timeout' };
  const a = d.status === 'active' ? dropletAddress(d, config.use_private_ip) : null;
  if (a && (await kit.machineEngineAnswers(a, config))) return { ...base, state: 'running' };
  // still `new`, or active without an engine yet: creating until boot_timeout
  const age = (now().getTime() - createdAt.getTime()) / 1000;
  return { ...base, state: age < config.boot_timeout ? 'creating' : 'timeout' };
}

/** The group's droplets by name: their ids and addresses, learnt from the listings by tag. */
function dropletIndex(config: DigitaloceanProviderConfig, tag: string, client: () => DigitaloceanApi) {
  return kit.machineIndex<number, Droplet>({
    list: async () => (await client().listByTag(tag)).filter((d) => d.tags.includes(tag)),
    name: (d) => d.name,
    where: (d) => d.id,
    address: (d) => dropletAddress(d, config.use_private_ip),
    get: (id) => client().get(id),
    noAddress: (name) => `droplet ${name} has no ${config.use_private_ip ? 'private' : 'public'} address`,
  });
}

export function createDigitaloceanProvider(options: DigitaloceanProviderOptions): InstanceGroup {
  const { config } = options;
  const group = kit.cloudGroupName(config.name, options.runnerName);
  const tag = groupTag(group);
  let api: DigitaloceanApi | null = null;
  let logger: Logger = silentLogger();
  let now = (): Date => new Date();
  const cloud = { provider: 'digitalocean', group, config, api: createDigitaloceanApi };
  const deleting = new Set<string>();

  const client = (): DigitaloceanApi => api ?? kit.usedBeforeInit('digitalocean');
  const index = dropletIndex(config, tag, client);
  const { listAll, address, forget } = index;

  /** Creates one droplet; resolves its name, also when the answer was lost (the listing will tell). */
  async function createOne(): Promise<string> {
    const name = `flotilla-${group}-${randomBytes(4).toString('hex')}`;
    // a droplet's public and private IPv4 addresses are on its interfaces: no metadata lookup
    const userData = await kit.machineUserData(config, name, config.user_data);
    try {
      const d = await client().create(dropletBody(config, name, group, userData));
      index.where.set(name, d.id);
      return name;
    } catch (err) {
      // A lost answer or a server error after the request was read: the droplet may exist.
      const status = (err as { status?: number }).status ?? 0;
      if (providerErrorKind(err) === 'timeout' || status >= 500) {
        logger.warn({ err, machine: name }, 'create not answered; the listing by tag will tell');
        return name;
      }
      throw err;
    }
  }

  const deletion = { locate: index.locate, remove: (id: number) => client().remove(id), deleting, forget };

  return {
    async init(deps) {
      ({ logger, now, api } = await kit.initCloudProvider(deps, cloud));
      return { id: `digitalocean/${config.region}/${group}`, maxSize: config.max_size, version: '1' };
    },
    async update(report) {
      const states = await Promise.all(
        (await listAll()).map((d) => dropletReport(d, config, deleting.has(d.name), now)),
      );
      for (const s of states) report(s);
    },
    increase: (count) =>
      kit.createUpTo(
        count,
        config.max_size,
        group,
        async () => (await listAll()).length,
        createOne,
        (err) => logger.warn({ err }, 'droplet creation failed'),
      ),
    decrease: (ids) => kit.removeLocated(ids, deletion, logger, 'droplet deletion failed'),
    ...kit.engineMachineCalls(config, address, 'droplet', () => config.region),
    async shutdown() {},
  };
}

export const digitaloceanProviderFactory = {
  name: 'digitalocean',
  configDocs: {
    schema: digitaloceanProviderConfigSchema,
    intro:
      'DigitalOcean droplets. See `docs/providers/digitalocean.md` (token scopes, user data, a complete config).',
  },
  parseConfig: kit.parseEngineProviderConfig(
    'digitalocean',
    digitaloceanProviderConfigSchema,
    'user_data',
    (config) => config.user_data,
  ),
  create: (options) => createDigitaloceanProvider(options),
} satisfies ProviderFactory<DigitaloceanProviderOptions>;
