/**
 * The `gce` provider: Compute Engine instances in one or more zones of a project (see readme.md).
 * Instances are named by the provider (`flotilla-<group>-<random>`) and labelled with the group in
 * the insert request itself, so an insert whose answer is lost is found again by its label and
 * name: it is returned as created and shows up in the next listing, or is reported lost. A zone
 * whose creations fail is skipped for `zone_cooldown` while another zone can take them.
 */
import { randomBytes } from 'node:crypto';

import { createMany, removeMany } from '../cloud-group.js';
import { engineConnectInfo, requireEngine } from '../machine-engine.js';
import type { Logger } from '../../../shared/logger.js';
import { silentLogger } from '../../../shared/logger.js';
import { pingEngine } from '../local/engine-ping.js';
import {
  ProviderError,
  providerErrorKind,
  type ConnectInfo,
  type InstanceGroup,
  type InstanceReport,
  type InstanceState,
  type ProviderFactory,
} from '../provider.js';
import { createGceApi, operationErrorKind, type GceApi, type GceInstance } from './api.js';
import { gceGroup, gceProviderConfigSchema, projectResource, type GceProviderConfig } from './config.js';
import { instanceBody } from './body.js';

export interface GceProviderOptions {
  config: GceProviderConfig;
  runnerName: string;
}

export const GROUP_LABEL = 'flotilla-group';

/** The address the manager uses for an instance. PURE. */
export function instanceAddress(i: GceInstance, useInternal: boolean): string | null {
  const nic = i.networkInterfaces?.[0];
  const ip = useInternal ? nic?.networkIP : nic?.accessConfigs?.[0]?.natIP;
  return ip ?? null;
}

function zoneName(zone: string): string {
  return zone.slice(zone.lastIndexOf('/') + 1);
}

export function createGceProvider(options: GceProviderOptions): InstanceGroup {
  const { config } = options;
  const group = gceGroup(config, options.runnerName);
  const filter = `labels.${GROUP_LABEL}=${group}`;
  let api: GceApi | null = null;
  let logger: Logger = silentLogger();
  let now = (): Date => new Date();
  const zoneOf = new Map<string, string>();
  const addressOf = new Map<string, string>();
  const deleting = new Set<string>();
  const zoneFailedAt = new Map<string, number>();
  const lastReport = new Map<string, InstanceReport>();
  let next = 0;

  const client = (): GceApi => {
    if (!api) throw new Error('gce provider used before init');
    return api;
  };

  /** Lists every zone; a zone that fails is named (its instances keep their last report). */
  async function listZones(): Promise<{ instances: GceInstance[]; failed: Map<string, unknown> }> {
    const failed = new Map<string, unknown>();
    const lists = await Promise.all(
      config.zones.map((z) =>
        client()
          .list(z, filter)
          .catch((err: unknown) => {
            failed.set(z, err);
            return [] as GceInstance[];
          }),
      ),
    );
    const instances = lists.flat().filter((i) => i.labels?.[GROUP_LABEL] === group);
    for (const i of instances) {
      zoneOf.set(i.name, zoneName(i.zone));
      const address = instanceAddress(i, config.use_internal_ip);
      if (address) addressOf.set(i.name, address);
    }
    if (failed.size === config.zones.length) throw [...failed.values()][0];
    return { instances, failed };
  }

  async function listAll(): Promise<GceInstance[]> {
    return (await listZones()).instances;
  }

  async function state(i: GceInstance): Promise<InstanceReport> {
    const createdAt = i.creationTimestamp ? new Date(i.creationTimestamp) : undefined;
    const base = { id: i.name, ...(createdAt ? { createdAt } : {}) };
    if (deleting.has(i.name) || i.status === 'STOPPING') return { ...base, state: 'deleting' };
    if (i.status === 'PROVISIONING' || i.status === 'STAGING') return { ...base, state: 'creating' };
    if (i.status !== 'RUNNING') return { ...base, state: 'timeout' };
    const address = instanceAddress(i, config.use_internal_ip);
    if (address && (await pingEngine(address, config.docker_port, config.docker_tls_cert_path ?? null)))
      return { ...base, state: 'running' };
    const age = createdAt ? (now().getTime() - createdAt.getTime()) / 1000 : Infinity;
    const st: InstanceState = age < config.boot_timeout ? 'creating' : 'timeout';
    return { ...base, state: st };
  }

  /** Zones to try, healthy ones first, starting at the round-robin position. */
  function zoneOrder(): string[] {
    const zones = config.zones.map((_, k) => config.zones[(next + k) % config.zones.length] as string);
    next = (next + 1) % config.zones.length;
    const cooling = (z: string): boolean =>
      now().getTime() - (zoneFailedAt.get(z) ?? -Infinity) < config.zone_cooldown * 1000;
    return [...zones.filter((z) => !cooling(z)), ...zones.filter(cooling)];
  }

  /** Creates one instance, trying the zones in order; resolves its name (also when the answer was lost). */
  async function createOne(): Promise<string> {
    const name = `flotilla-${group}-${randomBytes(4).toString('hex')}`;
    let last: unknown = null;
    for (const zone of zoneOrder()) {
      const body = instanceBody(config, { name, zone, group });
      const template = config.instance_template
        ? projectResource(config.project, config.instance_template)
        : undefined;
      try {
        zoneOf.set(name, zone);
        const op = await client().insert(zone, body, template);
        const done = await client().wait(zone, op, config.operation_timeout * 1000);
        if (!done.error) {
          zoneFailedAt.delete(zone);
          return name;
        }
        const codes = (done.error.errors ?? []).map((e) => `${e.code}: ${e.message ?? ''}`).join('; ');
        throw new ProviderError(operationErrorKind(done), `insert ${name} in ${zone}: ${codes}`);
      } catch (err) {
        if (providerErrorKind(err) === 'timeout') {
          logger.warn({ err, machine: name, zone }, 'insert not answered in time; the listing will tell');
          return name;
        }
        zoneOf.delete(name);
        zoneFailedAt.set(zone, now().getTime());
        logger.warn({ err, machine: name, zone }, 'insert failed in this zone');
        last = err;
        if (providerErrorKind(err) === 'rate_limit') break;
      }
    }
    throw last instanceof Error ? last : new ProviderError('api', `insert ${name} failed`);
  }

  async function zoneFor(name: string): Promise<string | null> {
    if (!zoneOf.has(name)) await listAll();
    return zoneOf.get(name) ?? null;
  }

  async function removeOne(name: string): Promise<string> {
    const zone = await zoneFor(name);
    if (!zone) return name;
    deleting.add(name);
    const op = await client().remove(zone, name);
    if (op) {
      const done = await client().wait(zone, op, config.operation_timeout * 1000);
      if (done.error && done.httpErrorStatusCode !== 404)
        throw new ProviderError('api', `delete ${name}: ${JSON.stringify(done.error)}`);
    }
    deleting.delete(name);
    zoneOf.delete(name);
    addressOf.delete(name);
    return name;
  }

  async function address(name: string): Promise<string> {
    const known = addressOf.get(name);
    if (known) return known;
    const zone = await zoneFor(name);
    const i = zone ? await client().get(zone, name) : null;
    const a = i ? instanceAddress(i, config.use_internal_ip) : null;
    if (!a) throw new Error(`instance ${name} has no ${config.use_internal_ip ? 'internal' : 'external'} IP`);
    addressOf.set(name, a);
    return a;
  }

  return {
    async init(deps) {
      logger = deps.logger.child({ provider: 'gce', group });
      now = () => deps.clock.now();
      api = await createGceApi(config, deps.clock);
      return { id: `gce/${config.project}/${group}`, maxSize: config.max_size, version: '1' };
    },
    async update(report) {
      const { instances, failed } = await listZones();
      const states = await Promise.all(instances.map(state));
      for (const [zone, err] of failed) {
        logger.warn({ err, zone }, 'zone not listed; its instances keep their last state');
        for (const [name, last] of lastReport) if (zoneOf.get(name) === zone) states.push(last);
      }
      lastReport.clear();
      for (const s of states) {
        lastReport.set(s.id, s);
        report(s);
      }
    },
    increase: (count) =>
      createMany({
        count,
        maxSize: config.max_size,
        group,
        existing: async () => (await listAll()).length,
        createOne,
        logger,
      }),
    decrease: (ids) => removeMany(ids, removeOne, logger),
    async connectInfo(id): Promise<ConnectInfo> {
      return engineConnectInfo(id, await address(id), config, zoneOf.get(id));
    },
    async heartbeat(id) {
      await requireEngine(await address(id), config, `instance ${id}`);
    },
    async shutdown() {},
  };
}

export const gceProviderFactory = {
  name: 'gce',
  parseConfig: (raw, context) => ({
    config: gceProviderConfigSchema.parse(raw ?? {}),
    runnerName: context.runnerName,
  }),
  create: (options) => createGceProvider(options),
} satisfies ProviderFactory<GceProviderOptions>;
