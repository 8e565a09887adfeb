/**
 * An EC2 Query API emulator (test part only), following the published API reference: POST
 * form-encoded `Action=...&Version=2016-11-15` signed with Signature Version 4, XML answers in
 * EC2's namespace and EC2's error document (`<Response><Errors><Error><Code>`). RunInstances
 * (ClientToken idempotency, TagSpecifications, launch templates, spot market options),
 * DescribeInstances (filters, MaxResults / NextToken pagination) and TerminateInstances; instance
 * states pending → running → shutting-down → terminated. Each instance boots a machine through a
 * `MachineHost`. Faults: throttling and 5xx, spot capacity refused, the vCPU limit, an instance
 * that never boots, a launch whose answer is lost.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { background } from '../background.js';
import { startEmuServer, type EmuAnswer, type EmuServer } from '../http-server.js';
import type { MachineHost } from '../machine-host.js';
import { describeInstances, instanceItem, type EmuEc2Instance } from './instances.js';
import { sigV4Problem, type SigV4Key } from './sigv4.js';
import { list, tagsFor } from './query.js';
import { EC2_VERSION, ec2Answer, ec2Error, el, errorStatus, set, stateEl, type Ec2State } from './xml.js';

export type { EmuEc2Instance } from './instances.js';

export interface Ec2Faults {
  /** The next calls answer these error codes (RequestLimitExceeded, InternalError, Unavailable...). */
  next: string[];
  /** Spot launches are refused with this code (InsufficientInstanceCapacity, SpotMaxPriceTooLow...). */
  spotRefused: string | null;
  /** The most live instances (the vCPU limit); beyond it launches answer VcpuLimitExceeded. */
  instanceLimit: number | null;
  /** The next instances never start an engine (running, nothing answers). */
  neverBoot: number;
  /** The next launches are carried out but never answered (the client times out). */
  loseRunAnswers: number;
}

export interface Ec2Emulator {
  endpoint: string;
  region: string;
  /** A shared credentials file holding the emulator's key under `profile`. */
  credentialsFile: string;
  profile: string;
  launchTemplateId: string;
  subnetId: string;
  faults: Ec2Faults;
  server: EmuServer;
  /** Every call: its Action and the error code answered ('' for success). */
  calls: { action: string; code: string; params: URLSearchParams }[];
  /** Instances not yet terminated. */
  instances(): EmuEc2Instance[];
  /** Every instance ever launched, terminated ones included. */
  all(): EmuEc2Instance[];
  /**
   * The cloud interrupts a spot instance, as EC2 does when it takes the capacity back: `stopped`
   * (interruption behaviour stop: the instance stays, stopped, until terminated) or `terminated`.
   * Its machine is gone either way.
   */
  interrupt(instanceId: string, to: 'stopped' | 'terminated'): Promise<void>;
  close(): Promise<void>;
}

const AZ = 'us-east-1a';
const hex = (n: number): string => randomBytes(n).toString('hex').slice(0, n);
const TEMPLATE = {
  id: 'lt-0a1b2c3d4e5f60718',
  name: 'flotilla-ci',
  imageId: 'ami-0fedcba987654321a',
  type: 't3.medium',
};
const SUBNET = 'subnet-0f1e2d3c4b5a69788';

export async function startEc2Emulator(o: {
  dir: string;
  host: MachineHost;
  /**
   * Which of an instance's addresses is the machine's, the one the manager reaches: `private` (the
   * manager in the VPC; the public address is a TEST-NET one nothing answers on), or `public` (the
   * manager outside; the private address is a VPC one it cannot reach). Default `private`.
   */
  reachable?: 'private' | 'public';
  /** The most instances per DescribeInstances page, whatever MaxResults asks (to exercise NextToken). */
  pageSize?: number;
}): Promise<Ec2Emulator> {
  const key: SigV4Key = {
    accessKeyId: `AKIA${hex(16).toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    region: 'us-east-1',
    service: 'ec2',
  };
  const profile = 'flotilla-ci';
  const credentialsFile = join(o.dir, 'aws-credentials');
  writeFileSync(
    credentialsFile,
    `[${profile}]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  const faults: Ec2Faults = {
    next: [],
    spotRefused: null,
    instanceLimit: null,
    neverBoot: 0,
    loseRunAnswers: 0,
  };
  const instances = new Map<string, EmuEc2Instance>();
  const tokens = new Map<string, { fingerprint: string; ids: string[] }>();
  const calls: Ec2Emulator['calls'] = [];
  const { track, settle } = background();
  const fail = (code: string, message: string): EmuAnswer => ec2Error(errorStatus(code), code, message);
  const live = (): EmuEc2Instance[] => [...instances.values()].filter((i) => i.state !== 'terminated');
  let addressSeq = 0;

  async function boot(i: EmuEc2Instance, engine: boolean): Promise<void> {
    try {
      const userData = i.userData ? Buffer.from(i.userData, 'base64').toString('utf8') : undefined;
      const m = await o.host.boot({ engine, userData });
      const other = (++addressSeq % 250) + 2;
      const [privateIp, publicIp] =
        o.reachable === 'public' ? [`172.31.77.${other}`, m.address] : [m.address, `203.0.113.${other}`];
      Object.assign(i, { handle: m.handle, address: m.address, privateIp, publicIp });
      if (i.state === 'pending') i.state = 'running';
      else await shutDown(i);
    } catch {
      Object.assign(i, { state: 'terminated', reason: 'Server.InternalError: Internal error on launch' });
    }
  }

  async function shutDown(i: EmuEc2Instance): Promise<void> {
    await o.host.destroy(i.handle).catch(() => undefined);
    i.state = 'terminated';
  }

  function launchSettings(p: URLSearchParams): EmuAnswer | Partial<EmuEc2Instance> {
    const byId = p.get('LaunchTemplate.LaunchTemplateId');
    const byName = p.get('LaunchTemplate.LaunchTemplateName');
    if (byId && byId !== TEMPLATE.id)
      return fail(
        'InvalidLaunchTemplateId.NotFound',
        `The specified launch template, with template ID ${byId}, does not exist.`,
      );
    if (byName && byName !== TEMPLATE.name)
      return fail(
        'InvalidLaunchTemplateName.NotFoundException',
        `The specified launch template, with template name ${byName}, does not exist.`,
      );
    const template = byId || byName ? TEMPLATE : null;
    const imageId = p.get('ImageId') ?? template?.imageId;
    if (!imageId) return fail('MissingParameter', 'The request must contain the parameter ImageId');
    if (!/^ami-[0-9a-f]{8,17}$/.test(imageId))
      return fail('InvalidAMIID.Malformed', `Invalid id: "${imageId}"`);
    const subnetId = p.get('SubnetId') ?? SUBNET;
    if (subnetId !== SUBNET)
      return fail('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    const securityGroups = list(p, 'SecurityGroupId');
    const bad = securityGroups.find((g) => !/^sg-[0-9a-f]{8,17}$/.test(g));
    if (bad) return fail('InvalidGroupId.Malformed', `Invalid id: "${bad}"`);
    const spot = p.get('InstanceMarketOptions.MarketType') === 'spot';
    return {
      imageId,
      instanceType: p.get('InstanceType') ?? template?.type ?? 'm1.small',
      subnetId,
      securityGroups,
      keyName: p.get('KeyName') ?? undefined,
      userData: p.get('UserData') ?? undefined,
      ...(spot ? { lifecycle: 'spot' as const } : {}),
    };
  }

  function run(p: URLSearchParams): EmuAnswer {
    const token = p.get('ClientToken') ?? '';
    const fingerprint = [...p.entries()]
      .filter(([k]) => k !== 'ClientToken')
      .map(String)
      .join('&');
    const prior = token ? tokens.get(token) : undefined;
    if (prior && prior.fingerprint !== fingerprint)
      return fail(
        'IdempotentParameterMismatch',
        'The client token you provided is associated with a resource that is different.',
      );
    if (prior) return runAnswer(prior.ids);
    const min = Number(p.get('MinCount'));
    const max = Number(p.get('MaxCount'));
    if (!(min >= 1 && max >= min))
      return fail('InvalidParameterValue', 'MinCount and MaxCount must be at least 1, MinCount <= MaxCount');
    const settings = launchSettings(p);
    if ('status' in settings) return settings;
    if (settings.lifecycle === 'spot' && faults.spotRefused)
      return fail(faults.spotRefused, 'There is no Spot capacity available that matches your request.');
    if (faults.instanceLimit !== null && live().length + min > faults.instanceLimit)
      return fail(
        'VcpuLimitExceeded',
        `You have requested more vCPU capacity than your current vCPU limit of ${faults.instanceLimit * 2} allows.`,
      );
    const reservationId = `r-${hex(17)}`;
    const ids: string[] = [];
    for (let n = 0; n < max; n++) {
      const i: EmuEc2Instance = {
        id: `i-${hex(17)}`,
        reservationId,
        state: 'pending',
        tags: tagsFor(p, 'instance'),
        launchTime: new Date().toISOString().replace(/\.\d{3}Z$/, '.000Z'),
        az: AZ,
        clientToken: token,
        address: '',
        handle: '',
        privateIp: '',
        publicIp: '',
        launchIndex: n,
        securityGroups: [],
        imageId: '',
        instanceType: '',
        subnetId: '',
        ...settings,
      };
      instances.set(i.id, i);
      ids.push(i.id);
      const engine = faults.neverBoot > 0 ? (faults.neverBoot--, false) : true;
      track(boot(i, engine));
    }
    if (token) tokens.set(token, { fingerprint, ids });
    if (faults.loseRunAnswers > 0) {
      faults.loseRunAnswers--;
      return { status: 0 };
    }
    return runAnswer(ids);
  }

  function runAnswer(ids: string[]): EmuAnswer {
    const mine = ids.map((id) => instances.get(id)).filter((i): i is EmuEc2Instance => !!i);
    return ec2Answer('RunInstances', [
      el('reservationId', mine[0]?.reservationId),
      el('ownerId', '123456789012'),
      set('groupSet', []),
      set('instancesSet', mine.map(instanceItem)),
    ]);
  }

  function terminate(p: URLSearchParams): EmuAnswer {
    const ids = list(p, 'InstanceId');
    if (ids.length === 0)
      return fail('MissingParameter', 'The request must contain the parameter InstanceId');
    const missing = ids.filter((id) => !instances.has(id));
    if (missing.length > 0)
      return fail('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    const items = ids.map((id) => {
      const i = instances.get(id) as EmuEc2Instance;
      const previous: Ec2State = i.state;
      if (previous !== 'terminated' && previous !== 'shutting-down') {
        i.state = 'shutting-down';
        if (previous !== 'pending') track(shutDown(i)); // a booting one is shut down when it is up
      }
      return [el('instanceId', id), stateEl('currentState', i.state), stateEl('previousState', previous)];
    });
    return ec2Answer('TerminateInstances', [set('instancesSet', items)]);
  }

  function dispatch(p: URLSearchParams): EmuAnswer {
    const action = p.get('Action') ?? '';
    if (p.get('Version') !== EC2_VERSION)
      return fail('InvalidParameterValue', `Version ${p.get('Version') ?? ''} is not supported`);
    const injected = faults.next.shift();
    if (injected)
      return fail(
        injected,
        injected === 'RequestLimitExceeded' ? 'Request limit exceeded.' : 'An internal error has occurred',
      );
    if (action === 'RunInstances') return run(p);
    if (action === 'DescribeInstances')
      return describeInstances(p, [...instances.values()], o.pageSize ?? 1000);
    if (action === 'TerminateInstances') return terminate(p);
    return fail('InvalidAction', `The action ${action} is not valid for this web service.`);
  }

  const server = await startEmuServer(
    [
      {
        method: 'POST',
        pattern: /^\/$/,
        handler: (r) => {
          const p = new URLSearchParams(r.text);
          const problem = sigV4Problem(r, key);
          const answer = problem ? fail('AuthFailure', problem) : dispatch(p);
          const code = /<Code>([^<]+)<\/Code>/.exec(answer.text ?? '')?.[1] ?? '';
          calls.push({ action: p.get('Action') ?? '', code, params: p });
          return answer;
        },
      },
    ],
    () => null,
    () => fail('InvalidAction', 'The Query API takes POST / only.'),
  );
  return {
    endpoint: server.url,
    region: key.region,
    credentialsFile,
    profile,
    launchTemplateId: TEMPLATE.id,
    subnetId: SUBNET,
    faults,
    server,
    calls,
    instances: live,
    all: () => [...instances.values()],
    async interrupt(instanceId, to) {
      const i = instances.get(instanceId);
      if (!i || i.state !== 'running') throw new Error(`instance ${instanceId} is not running`);
      const code = to === 'stopped' ? 'Server.SpotInstanceShutdown' : 'Server.SpotInstanceTermination';
      i.stateReason = { code, message: `${code}: Spot instance interrupted because of capacity` };
      i.reason = 'Server.SpotInstanceInterruption';
      i.state = to === 'stopped' ? 'stopping' : 'shutting-down';
      await o.host.destroy(i.handle).catch(() => undefined);
      i.state = to;
    },
    async close() {
      await settle();
      await server.close();
    },
  };
}
