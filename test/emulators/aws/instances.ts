/**
 * EC2 instances as the emulator keeps and shows them (test part only): the instance item of
 * RunInstances and DescribeInstances answers, and DescribeInstances itself (InstanceId.N,
 * filters, MaxResults / NextToken, reservations).
 */
import type { EmuAnswer } from '../http-server.js';
import { filters, list } from './query.js';
import { ec2Answer, ec2Error, el, set, stateEl, type Ec2State, type XmlEl } from './xml.js';

export interface EmuEc2Instance {
  id: string;
  reservationId: string;
  state: Ec2State;
  tags: Record<string, string>;
  launchTime: string;
  imageId: string;
  instanceType: string;
  subnetId: string;
  az: string;
  securityGroups: string[];
  keyName?: string | undefined;
  userData?: string | undefined;
  lifecycle?: 'spot';
  clientToken: string;
  launchIndex: number;
  reason?: string;
  /** The machine's address ('' until it booted) and the host's handle of it. */
  address: string;
  handle: string;
  /**
   * The instance's private and public IPv4 addresses ('' until it booted), as EC2 gives both: one is
   * the machine's address, the other one nothing answers on (see the emulator's `reachable`).
   */
  privateIp: string;
  publicIp: string;
  /** Why the instance changed state (EC2's `stateReason`), e.g. a spot interruption. */
  stateReason?: { code: string; message: string };
}

export function instanceItem(i: EmuEc2Instance): XmlEl[] {
  const ip = i.privateIp || undefined;
  return [
    el('instanceId', i.id),
    el('imageId', i.imageId),
    stateEl('instanceState', i.state),
    el('privateDnsName', ip ? `ip-${ip.replace(/\./g, '-')}.ec2.internal` : ''),
    el('reason', i.reason ?? ''),
    el('keyName', i.keyName),
    el('amiLaunchIndex', i.launchIndex),
    el('instanceType', i.instanceType),
    el('launchTime', i.launchTime),
    el('placement', [el('availabilityZone', i.az), el('groupName', ''), el('tenancy', 'default')]),
    el('monitoring', [el('state', 'disabled')]),
    el('subnetId', i.subnetId),
    el('vpcId', 'vpc-0123456789abcdef0'),
    el('privateIpAddress', ip),
    el('ipAddress', i.publicIp || undefined),
    set(
      'groupSet',
      i.securityGroups.map((g) => [el('groupId', g), el('groupName', g)]),
    ),
    el('architecture', 'x86_64'),
    el('rootDeviceType', 'ebs'),
    el('rootDeviceName', '/dev/xvda'),
    el('instanceLifecycle', i.lifecycle),
    el('clientToken', i.clientToken),
    set(
      'tagSet',
      Object.entries(i.tags).map(([k, v]) => [el('key', k), el('value', v)]),
    ),
    el('hypervisor', 'xen'),
    ...(i.stateReason
      ? [el('stateReason', [el('code', i.stateReason.code), el('message', i.stateReason.message)])]
      : []),
  ];
}

type Match = (i: EmuEc2Instance, values: string[]) => boolean;

function matcher(name: string): Match | null {
  if (name.startsWith('tag:')) return (i, v) => v.includes(i.tags[name.slice(4)] ?? '\0');
  if (name === 'tag-key') return (i, v) => v.some((k) => k in i.tags);
  if (name === 'instance-state-name') return (i, v) => v.includes(i.state);
  if (name === 'instance-id') return (i, v) => v.includes(i.id);
  if (name === 'instance-lifecycle') return (i, v) => v.includes(i.lifecycle ?? 'scheduled');
  return null;
}

/** DescribeInstances over `all` (in launch order), at most `pageSize` instances per page. */
export function describeInstances(p: URLSearchParams, all: EmuEc2Instance[], pageSize: number): EmuAnswer {
  const bad = (code: string, message: string): EmuAnswer => ec2Error(400, code, message);
  const ids = list(p, 'InstanceId');
  if (ids.length > 0 && p.has('MaxResults'))
    return bad(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  const max = p.has('MaxResults') ? Number(p.get('MaxResults')) : 1000;
  if (!(max >= 5 && max <= 1000))
    return bad(
      'InvalidParameterValue',
      'Value for parameter maxResults is invalid. Expecting a value in 5...1000.',
    );
  const missing = ids.filter((id) => !all.some((i) => i.id === id));
  if (missing.length > 0)
    return bad('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
  const checks: [Match, string[]][] = [];
  for (const [name, values] of filters(p)) {
    const m = matcher(name);
    if (!m) return bad('InvalidParameterValue', `The filter '${name}' is invalid`);
    checks.push([m, values]);
  }
  const matching = all.filter(
    (i) => (ids.length === 0 || ids.includes(i.id)) && checks.every(([m, v]) => m(i, v)),
  );
  const token = p.get('NextToken');
  const start = token
    ? Number(
        Buffer.from(token, 'base64url')
          .toString('utf8')
          .replace(/^offset:/, ''),
      )
    : 0;
  if (!Number.isInteger(start) || start < 0)
    return bad('InvalidParameterValue', 'Invalid value for NextToken');
  const page = matching.slice(start, start + Math.min(max, pageSize));
  const end = start + page.length;
  const next = end < matching.length ? Buffer.from(`offset:${end}`).toString('base64url') : undefined;
  const reservations = [...new Set(page.map((i) => i.reservationId))].map((r) => {
    const members = page.filter((i) => i.reservationId === r);
    return [
      el('reservationId', r),
      el('ownerId', '123456789012'),
      set('groupSet', []),
      set('instancesSet', members.map(instanceItem)),
    ];
  });
  return ec2Answer('DescribeInstances', [set('reservationSet', reservations), el('nextToken', next)]);
}
