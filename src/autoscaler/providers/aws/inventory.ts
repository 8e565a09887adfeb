/**
 * What the `aws` provider knows of its group's instances: the listing by the group tag, each
 * instance's machine id (its `Name` tag), EC2 instance id, address and zone, and its state as the
 * autoscaler sees it (pending → creating, running → running once the engine answers).
 */
import type { Instance } from '@aws-sdk/client-ec2';

import { machineEngineAnswers } from '../machine-engine.js';
import type { InstanceReport } from '../provider.js';
import type { Ec2Api } from './api.js';
import { GROUP_TAG } from './body.js';
import type { AwsProviderConfig } from './config.js';

/** The machine id of an instance: its `Name` tag, else its instance id. PURE. */
export function machineName(i: Instance): string {
  return i.Tags?.find((t) => t.Key === 'Name')?.Value ?? i.InstanceId ?? '';
}

/** The address the manager uses for an instance. PURE. */
export function instanceAddress(i: Instance, usePrivate: boolean): string | null {
  return (usePrivate ? i.PrivateIpAddress : i.PublicIpAddress) ?? null;
}

export interface AwsInventory {
  /** Machines whose termination is in flight (reported `deleting`). */
  readonly deleting: Set<string>;
  remember(i: Instance): void;
  forget(name: string): void;
  listAll(): Promise<Instance[]>;
  state(i: Instance): Promise<InstanceReport>;
  /** The EC2 instance id of a machine (listing when unknown), or null when it is gone. */
  instanceId(name: string): Promise<string | null>;
  address(name: string): Promise<string>;
  zone(name: string): string | undefined;
}

export function createAwsInventory(o: {
  config: AwsProviderConfig;
  group: string;
  api: () => Ec2Api;
  now: () => Date;
}): AwsInventory {
  const { config } = o;
  const instanceIds = new Map<string, string>();
  const addressOf = new Map<string, string>();
  const zoneOf = new Map<string, string>();
  const deleting = new Set<string>();

  const inv: AwsInventory = {
    deleting,
    remember(i) {
      const name = machineName(i);
      if (i.InstanceId) instanceIds.set(name, i.InstanceId);
      const a = instanceAddress(i, config.use_private_ip);
      if (a) addressOf.set(name, a);
      if (i.Placement?.AvailabilityZone) zoneOf.set(name, i.Placement.AvailabilityZone);
    },
    forget(name) {
      instanceIds.delete(name);
      addressOf.delete(name);
      zoneOf.delete(name);
    },
    async listAll() {
      const all = await o.api().listByTag(GROUP_TAG, o.group);
      const mine = all.filter((i) => i.Tags?.some((t) => t.Key === GROUP_TAG && t.Value === o.group));
      for (const i of mine) inv.remember(i);
      return mine;
    },
    async state(i) {
      const name = machineName(i);
      const base = { id: name, ...(i.LaunchTime ? { createdAt: new Date(i.LaunchTime) } : {}) };
      const st = i.State?.Name;
      if (deleting.has(name) || st === 'shutting-down' || st === 'stopping')
        return { ...base, state: 'deleting' };
      if (st === 'pending') return { ...base, state: 'creating' };
      if (st !== 'running') return { ...base, state: 'timeout' };
      const a = instanceAddress(i, config.use_private_ip);
      if (a && (await machineEngineAnswers(a, config))) return { ...base, state: 'running' };
      const age = base.createdAt ? (o.now().getTime() - base.createdAt.getTime()) / 1000 : Infinity;
      return { ...base, state: age < config.boot_timeout ? 'creating' : 'timeout' };
    },
    async instanceId(name) {
      if (!instanceIds.has(name)) await inv.listAll();
      return instanceIds.get(name) ?? (/^i-[0-9a-f]+$/.test(name) ? name : null);
    },
    async address(name) {
      if (!addressOf.has(name)) await inv.listAll();
      const a = addressOf.get(name);
      if (!a) throw new Error(`instance ${name} has no ${config.use_private_ip ? 'private' : 'public'} IP`);
      return a;
    },
    zone: (name) => zoneOf.get(name),
  };
  return inv;
}
