/**
 * The `gce` provider: Compute Engine instances in one or more zones of a project (see readme.md).
 * Instances are named by the provider (`flotilla-<group>-<random>`) and labelled with the group in
 * the insert request itself, so an insert whose answer is lost is found again by its label and
 * name: it is returned as created and shows up in the next listing, or is reported lost. A zone
 * whose creations fail is skipped for `zone_cooldown` while another zone can take them.
 */
import { randomBytes } from 'node:crypto';

import * as kit from '../cloud-kit.js';
import type { Logger } from '../../../shared/logger.js';
import { silentLogger } from '../../../shared/logger.js';
import {
  ProviderError,
  providerErrorKind,
  type InstanceGroup,
  type InstanceReport,
  type InstanceState,
  type ProviderFactory,
} from '../provider.js';
import { createGceApi, operationErrorKind, type GceApi, type GceInstance } from './api.js';
import { gceProviderConfigSchema, projectResource, type GceProviderConfig } from './config.js';
import { instanceBody } from './body.js';

/** Prints the instance's external IPv4 address from the metadata server. */
export const GCE_PUBLIC_IP =
  "curl -sf -m 2 -H 'Metadata-Flavor: Google' http://169.254.169.254/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip";

/** The instance's metadata: `metadata`, its startup script with the engine's TLS boot lines when `tls`. */
async function instanceMetadata(config: GceProviderConfig, name: string): Promise<Record<string, string>> {
  const publicIp = config.use_internal_ip ? undefined : GCE_PUBLIC_IP;
  const script = await kit.machineUserData(config, name, config.metadata['startup-script'], publicIp);
  return script ? { ...config.metadata, 'startup-script': script } : config.metadata;
}

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

/** What an instance is to the taskscaler: running once its engine answers, creating until boot_timeout. */
async function instanceReport(
  i: GceInstance,
  config: GceProviderConfig,
  deleting: boolean,
  now: () => Date,
): Promise<InstanceReport> {
  const createdAt = i.creationTimestamp ? new Date(i.creationTimestamp) : undefined;
  const base = { id: i.name, ...(createdAt ? { createdAt } : {}) };
  if (deleting || i.status === 'STOPPING') return { ...base, state: 'deleting' };
  if (i.status === 'PROVISIONING' || i.status === 'STAGING') return { ...base, state: 'creating' };
  if (i.status !== 'RUNNING') return { ...base, state: 'timeout' };
  const address = instanceAddress(i, config.use_internal_ip);
  if (address && (await kit.machineEngineAnswers(address, config))) return { ...base, state: 'running' };
  const age = createdAt ? (now().getTime() - createdAt.getTime()) / 1000 : Infinity;
  const st: InstanceState = age < config.boot_timeout ? 'creating' : 'timeout';
  return { ...base, state: st };
}

/** The zones to create in, round robin; a zone whose creation failed waits `zone_cooldown` behind the others. */
function zoneRotation(config: GceProviderConfig, now: () => Date) {
  const zoneFailedAt = new Map<string, number>();
  let next = 0;

  /** Zones to try, healthy ones first, starting at the round-robin position. */
  function order(): string[] {
    const zones = config.zones.map((_, k) => config.zones[(next + k) % config.zones.length] as string);
    next = (next + 1) % config.zones.length;
    const cooling = (z: string): boolean =>
      now().getTime() - (zoneFailedAt.get(z) ?? -Infinity) < config.zone_cooldown * 1000;
    return [...zones.filter((z) => !cooling(z)), ...zones.filter(cooling)];
  }

  return {
    order,
    failed: (zone: string): void => void zoneFailedAt.set(zone, now().getTime()),
    succeeded: (zone: string): void => void zoneFailedAt.delete(zone),
  };
}

/** The group's instances by name: their zones and addresses, learnt from the listings by label. */
function instanceIndex(config: GceProviderConfig, group: string, client: () => GceApi) {
  const filter = `labels.${GROUP_LABEL}=${group}`;
  const index = kit.machineIndex<string, GceInstance>({
    list: async () => (await listZones()).instances,
    name: (i) => i.name,
    where: (i) => zoneName(i.zone),
    address: (i) => instanceAddress(i, config.use_internal_ip),
    get: (zone, name) => client().get(zone, name),
    noAddress: (name) => `instance ${name} has no ${config.use_internal_ip ? 'internal' : 'external'} IP`,
  });

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
    index.learn(instances);
    if (failed.size === config.zones.length) throw [...failed.values()][0];
    return { instances, failed };
  }

  return { ...index, zoneOf: index.where, listZones };
}

/** Inserts an instance in one zone and waits for the operation; throws the operation's error. */
async function insertIn(
  api: GceApi,
  config: GceProviderConfig,
  i: { name: string; zone: string; group: string; metadata: Record<string, string> },
): Promise<void> {
  const template = config.instance_template
    ? projectResource(config.project, config.instance_template)
    : undefined;
  const op = await api.insert(i.zone, instanceBody(config, i), template);
  const done = await api.wait(i.zone, op, config.operation_timeout * 1000);
  if (!done.error) return;
  const codes = (done.error.errors ?? []).map((e) => `${e.code}: ${e.message ?? ''}`).join('; ');
  throw new ProviderError(operationErrorKind(done), `insert ${i.name} in ${i.zone}: ${codes}`);
}

/** Deletes an instance and waits for the operation; an instance already gone is deleted. */
async function deleteIn(api: GceApi, config: GceProviderConfig, zone: string, name: string): Promise<void> {
  const op = await api.remove(zone, name);
  if (!op) return;
  const done = await api.wait(zone, op, config.operation_timeout * 1000);
  if (done.error && done.httpErrorStatusCode !== 404)
    throw new ProviderError('api', `delete ${name}: ${JSON.stringify(done.error)}`);
}

/** Each instance's last report, given again for the instances of a zone that could not be listed. */
function lastReportsByZone(zoneOf: ReadonlyMap<string, string>) {
  const last = new Map<string, InstanceReport>();
  return {
    inZone: (zone: string): InstanceReport[] =>
      [...last].flatMap(([name, report]) => (zoneOf.get(name) === zone ? [report] : [])),
    remember(reports: readonly InstanceReport[]): void {
      last.clear();
      for (const r of reports) last.set(r.id, r);
    },
  };
}

export function createGceProvider(options: GceProviderOptions): InstanceGroup {
  const { config } = options;
  const group = kit.cloudGroupName(config.name, options.runnerName);
  let api: GceApi | null = null;
  let logger: Logger = silentLogger();
  let now = (): Date => new Date();
  const cloud = { provider: 'gce', group, config, api: createGceApi };
  const deleting = new Set<string>();
  const zones = zoneRotation(config, () => now());

  const client = (): GceApi => api ?? kit.usedBeforeInit('gce');
  const { zoneOf, listZones, listAll, locate, address, forget } = instanceIndex(config, group, client);
  const lastReports = lastReportsByZone(zoneOf);

  /** Creates one instance, trying the zones in order; resolves its name (also when the answer was lost). */
  async function createOne(): Promise<string> {
    const name = `flotilla-${group}-${randomBytes(4).toString('hex')}`;
    let last: unknown = null;
    const metadata = await instanceMetadata(config, name);
    for (const zone of zones.order()) {
      try {
        zoneOf.set(name, zone);
        await insertIn(client(), config, { name, zone, group, metadata });
        zones.succeeded(zone);
        return name;
      } catch (err) {
        if (providerErrorKind(err) === 'timeout') {
          logger.warn({ err, machine: name, zone }, 'insert not answered in time; the listing will tell');
          return name;
        }
        zoneOf.delete(name);
        zones.failed(zone);
        logger.warn({ err, machine: name, zone }, 'insert failed in this zone');
        last = err;
        if (providerErrorKind(err) === 'rate_limit') break;
      }
    }
    throw last instanceof Error ? last : new ProviderError('api', `insert ${name} failed`);
  }

  const remove = (zone: string, name: string): Promise<void> => deleteIn(client(), config, zone, name);
  const deletion = { locate, remove, deleting, forget };

  return {
    async init(deps) {
      ({ logger, now, api } = await kit.initCloudProvider(deps, cloud));
      return { id: `gce/${config.project}/${group}`, maxSize: config.max_size, version: '1' };
    },
    async update(report) {
      const { instances, failed } = await listZones();
      const states = await Promise.all(
        instances.map((i) => instanceReport(i, config, deleting.has(i.name), now)),
      );
      for (const [zone, err] of failed) {
        logger.warn({ err, zone }, 'zone not listed; its instances keep their last state');
        states.push(...lastReports.inZone(zone));
      }
      lastReports.remember(states);
      for (const s of states) report(s);
    },
    increase: (count) =>
      kit.createUpTo(count, config.max_size, group, async () => (await listAll()).length, createOne),
    decrease: (ids) => kit.removeLocated(ids, deletion, logger, 'instance deletion failed'),
    ...kit.engineMachineCalls(config, address, 'instance', (id) => zoneOf.get(id)),
    async shutdown() {},
  };
}

export const gceProviderFactory = {
  name: 'gce',
  configDocs: {
    schema: gceProviderConfigSchema,
    intro:
      'Compute Engine. See `docs/providers/gce.md` (IAM permissions, startup script, a complete config).',
  },
  parseConfig: kit.parseEngineProviderConfig(
    'gce',
    gceProviderConfigSchema,
    'metadata.startup-script',
    (config) => config.metadata['startup-script'],
  ),
  create: (options) => createGceProvider(options),
} satisfies ProviderFactory<GceProviderOptions>;
