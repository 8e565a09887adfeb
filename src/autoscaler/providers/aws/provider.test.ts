/**
 * The `aws` provider against the EC2 Query API emulator (test/emulators/aws): requests are signed
 * by the real AWS SDK with keys from the credential chain and verified by the emulator; machines
 * are loopback `/_ping` servers here; the e2e test boots real machines.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { startEc2Emulator, type Ec2Emulator } from '../../../../test/emulators/aws/emulator.js';
import { pingMachineHost } from '../../../../test/emulators/machine-host.js';
import { skippingClock, type SkippingClock } from '../../../../test/emulators/test-clock.js';
import { silentLogger } from '../../../shared/logger.js';
import { initialized, listed, providerUnitKit, until } from '../../../../test/helpers/provider-unit.js';
import { cleanFleet } from '../../cleaner.js';
import { createProviderExporter } from '../../exporter.js';
import { autoscalerMetrics } from '../../metrics.js';
import { createProviderGroup } from '../../provider-group.js';
import { ProviderError, type InstanceGroup, type InstanceReport } from '../provider.js';
import { classifyEc2Error } from './api.js';
import { parseAwsConfig } from './config.js';
import { createAwsProvider } from './provider.js';

const kit = providerUnitKit({ name: 'aws', basePort: 24350, block: 79 });
const { port: PORT, dir } = kit;
let emu: Ec2Emulator;
const clock: SkippingClock = skippingClock();
let provider: InstanceGroup;

async function newProvider(extra: Record<string, unknown> = {}, on?: Ec2Emulator): Promise<InstanceGroup> {
  const e = on ?? emu;
  const config = parseAwsConfig({
    region: 'us-east-1',
    name: 'unit',
    image_id: 'ami-0123456789abcdef0',
    instance_type: 't3.medium',
    subnet_id: e.subnetId,
    security_group_ids: ['sg-0123456789abcdef0'],
    key_name: 'ci',
    user_data: '#!/bin/sh\nsystemctl start docker\n',
    tags: { team: 'ci' },
    profile: e.profile,
    credentials_file: e.credentialsFile,
    endpoint: e.endpoint,
    docker_port: PORT,
    boot_timeout: 60,
    request_timeout: 2,
    ...extra,
  });
  return initialized(createAwsProvider({ config, runnerName: 'unit-runner' }), clock);
}

const running = (p: InstanceGroup, n: number): Promise<InstanceReport[]> =>
  until(`${n} running`, async () => {
    const s = await listed(p);
    return s.filter((x) => x.state === 'running').length === n && s;
  });

const runCalls = (): Ec2Emulator['calls'] => emu.calls.filter((c) => c.action === 'RunInstances');

beforeAll(async () => {
  emu = await startEc2Emulator({ dir, host: kit.host, pageSize: 2 });
  provider = await newProvider();
});

afterEach(async () => {
  Object.assign(emu.faults, {
    next: [],
    spotRefused: null,
    instanceLimit: null,
    neverBoot: 0,
    loseRunAnswers: 0,
  });
  const names = emu.instances().map((i) => i.tags.Name ?? i.id);
  if (names.length > 0) await provider.decrease(names);
  await until('every instance terminated', async () => emu.instances().length === 0);
});

afterAll(async () => {
  await emu.close();
  await kit.close();
});

describe('aws provider against the EC2 Query API emulator', () => {
  it('launches tagged instances, lists them by tag across pages, connects and terminates them', async () => {
    const ids = await provider.increase(5);
    expect(ids).toHaveLength(5);
    for (const id of ids) expect(id).toMatch(/^flotilla-unit-[0-9a-f]{8}$/);
    const launched = emu.instances();
    for (const i of launched) {
      expect(i.tags).toEqual({
        team: 'ci',
        Name: i.tags.Name,
        'flotilla-group': 'unit',
        'flotilla-runner': 'unit-runner',
        'flotilla-managed': 'true',
      });
      expect(i.clientToken).toBe(i.tags.Name);
      expect(Buffer.from(i.userData ?? '', 'base64').toString()).toBe('#!/bin/sh\nsystemctl start docker\n');
      expect(i).toMatchObject({
        securityGroups: ['sg-0123456789abcdef0'],
        keyName: 'ci',
        instanceType: 't3.medium',
      });
      expect(i.lifecycle).toBeUndefined();
    }
    const states = await running(provider, 5);
    expect(states.map((s) => s.id)).toEqual([...ids].sort());
    expect(states.every((s) => s.createdAt instanceof Date)).toBe(true);
    const info = await provider.connectInfo(ids[0] ?? '');
    expect(info.dockerHost).toMatch(new RegExp(`^tcp://127\\.0\\.79\\.\\d+:${PORT}$`));
    expect(info.zone).toBe('us-east-1a');
    await provider.heartbeat?.(ids[0] ?? '');
    expect(await provider.decrease(ids)).toEqual(ids);
    expect(emu.instances().every((i) => i.state === 'shutting-down' || i.state === 'terminated')).toBe(true);
    await until('terminated', async () => emu.instances().length === 0);
    expect(await listed(provider)).toEqual([]);
    // every call was signed with the profile's key (AuthFailure otherwise); pages of 2 were followed
    expect(emu.calls.filter((c) => c.code !== '')).toEqual([]);
    const describes = emu.calls.filter((c) => c.action === 'DescribeInstances');
    expect(describes.some((c) => c.params.has('NextToken'))).toBe(true);
    expect(describes[0]?.params.get('Filter.1.Name')).toBe('tag:flotilla-group');
  });

  it('launches from a launch template, with keys from the environment (the default chain)', async () => {
    const fromTemplate = {
      image_id: undefined,
      instance_type: undefined,
      launch_template_id: emu.launchTemplateId,
      launch_template_version: '$Latest',
      profile: undefined,
      credentials_file: undefined,
    };
    const ini = readFileSync(emu.credentialsFile, 'utf8');
    try {
      vi.stubEnv('AWS_PROFILE', undefined); // a profile in the environment would skip the keys
      vi.stubEnv('AWS_ACCESS_KEY_ID', /aws_access_key_id = (\S+)/.exec(ini)?.[1] ?? '');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-the-secret');
      await expect((await newProvider(fromTemplate)).increase(1)).rejects.toMatchObject({ kind: 'api' });
      expect(emu.calls.at(-1)?.code).toBe('AuthFailure');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', /aws_secret_access_key = (\S+)/.exec(ini)?.[1] ?? '');
      const [id] = await (await newProvider(fromTemplate)).increase(1);
      const i = emu.instances().find((x) => x.tags.Name === id);
      expect(i).toMatchObject({ imageId: 'ami-0fedcba987654321a', instanceType: 't3.medium' });
      const call = runCalls().at(-1);
      expect(call?.params.get('LaunchTemplate.LaunchTemplateId')).toBe(emu.launchTemplateId);
      expect(call?.params.get('LaunchTemplate.Version')).toBe('$Latest');
      expect(call?.params.has('ImageId')).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('falls back to on-demand when spot capacity is refused; without fallback the refusal is capacity', async () => {
    const spot = await newProvider({ spot: true, spot_max_price: '0.05' });
    const [first] = await spot.increase(1);
    expect(emu.instances().find((i) => i.tags.Name === first)?.lifecycle).toBe('spot');
    expect(runCalls().at(-1)?.params.get('InstanceMarketOptions.SpotOptions.MaxPrice')).toBe('0.05');
    for (const code of [
      'InsufficientInstanceCapacity',
      'SpotMaxPriceTooLow',
      'MaxSpotInstanceCountExceeded',
    ]) {
      emu.faults.spotRefused = code;
      const before = runCalls().length;
      const [id] = await spot.increase(1);
      const [refused, onDemand] = runCalls().slice(before);
      expect(refused?.code).toBe(code);
      expect(refused?.params.get('InstanceMarketOptions.MarketType')).toBe('spot');
      expect(onDemand?.code).toBe('');
      expect(onDemand?.params.has('InstanceMarketOptions.MarketType')).toBe(false);
      expect(onDemand?.params.get('ClientToken')).toBe(`${id}-od`);
      const i = emu.instances().find((x) => x.tags.Name === id);
      expect(i?.lifecycle).toBeUndefined();
    }
    const strict = await newProvider({ spot: true, spot_fallback: false });
    emu.faults.spotRefused = 'InsufficientInstanceCapacity';
    await expect(strict.increase(1)).rejects.toMatchObject({ kind: 'capacity' });
    expect(emu.instances()).toHaveLength(4);
  });

  it('reports the vCPU limit as capacity and launches nothing', async () => {
    emu.faults.instanceLimit = 1;
    const ids = await provider.increase(1);
    await expect(provider.increase(1)).rejects.toMatchObject({ kind: 'capacity' });
    expect(emu.instances().map((i) => i.tags.Name)).toEqual(ids);
    expect(runCalls().at(-1)?.code).toBe('VcpuLimitExceeded');
    expect(classifyEc2Error('InstanceLimitExceeded', 400)).toBe('capacity');
    expect(classifyEc2Error('Throttling', 400)).toBe('rate_limit');
  });

  it('retries throttling and 5xx answers with backoff; repeated throttling is rate_limit', async () => {
    const before = clock.sleeps.length;
    emu.faults.next.push('RequestLimitExceeded', 'InternalError', 'Unavailable');
    expect(await provider.increase(1)).toHaveLength(1);
    const waited = clock.sleeps.slice(before);
    expect(waited).toHaveLength(3);
    expect(waited[0]).toBeGreaterThanOrEqual(250);
    expect(waited[2]).toBeGreaterThan(waited[0] ?? 0);
    expect(emu.instances()).toHaveLength(1);
    emu.faults.next.push(...Array<string>(5).fill('RequestLimitExceeded'));
    const err = await provider.increase(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('rate_limit');
    expect(emu.instances()).toHaveLength(1);
  });

  it('reports an instance whose engine never answers as creating, then timeout after boot_timeout', async () => {
    emu.faults.neverBoot = 1;
    const [id] = await provider.increase(1);
    await until('running at EC2', async () => emu.instances()[0]?.state === 'running');
    expect((await listed(provider)).find((s) => s.id === id)?.state).toBe('creating');
    clock.skip(61_000);
    expect((await listed(provider)).find((s) => s.id === id)?.state).toBe('timeout');
  });

  it('never leaks an instance whose RunInstances answer is lost: same ClientToken on retry, found by tag', async () => {
    emu.faults.loseRunAnswers = 1;
    const retrying = await newProvider({ retries: 2, request_timeout: 0.5 });
    const [again] = await retrying.increase(1);
    expect(emu.instances().filter((i) => i.tags.Name === again)).toHaveLength(1);
    expect(
      runCalls()
        .slice(-2)
        .map((c) => c.params.get('ClientToken')),
    ).toEqual([again, again]);
    emu.faults.loseRunAnswers = 1;
    const lossy = await newProvider({ retries: 0, request_timeout: 0.5 });
    const [id] = await lossy.increase(1);
    expect(id).toMatch(/^flotilla-unit-/);
    const found = await until('the instance in the listing', async () =>
      (await listed(lossy)).find((s) => s.id === id && s.state === 'running'),
    );
    expect(found.id).toBe(id);
    expect(emu.instances()).toHaveLength(2);
  });

  it("reports the group's inventory through the provider exporter; the orphan cleaner terminates unknown instances", async () => {
    // a boot_timeout longer than the clock skipped by earlier tests: the unbooted one is creating
    const patient = await newProvider({ boot_timeout: 86_400 });
    const [kept, orphan] = await patient.increase(2);
    emu.faults.neverBoot = 1;
    await patient.increase(1);
    await running(patient, 2);
    const registry = new Registry();
    const group = createProviderGroup({
      members: [{ name: 'aws', group: patient, backup: false }],
      failoverAfterMs: 60_000,
      throttle: { limit: -1, burst: 10 },
      clock,
      logger: silentLogger(),
    });
    await createProviderExporter({ runner: 'unit', group, registry, clock, logger: silentLogger() }).scrape();
    const text = await registry.metrics();
    expect(text).toContain('flotilla_provider_machines{runner="unit",provider="aws",state="running"} 2');
    expect(text).toContain('flotilla_provider_machines{runner="unit",provider="aws",state="creating"} 1');
    const known = new Set(
      emu
        .instances()
        .map((i) => i.tags.Name ?? '')
        .filter((n) => n !== orphan),
    );
    clock.skip(3_600_000);
    const report = await cleanFleet({
      runner: 'unit',
      group: patient,
      known,
      zeroIds: [],
      dropZeroIds: () => undefined,
      orphanMinAgeMs: 900_000,
      zeroIdMaxAgeMs: 900_000,
      nowMs: clock.now().getTime(),
      dryRun: false,
      logger: silentLogger(),
      metrics: autoscalerMetrics(new Registry()),
    });
    expect(report.orphans.removed).toEqual([orphan]);
    await until('the orphan terminated', async () => !emu.instances().some((i) => i.tags.Name === orphan));
    expect(emu.instances().some((i) => i.tags.Name === kept)).toBe(true);
  });

  it('connects to the private IP by default, though the instance has a public one too', async () => {
    const [id = ''] = await provider.increase(1);
    await running(provider, 1);
    const [i] = emu.instances();
    expect(i?.privateIp).toMatch(/^127\.0\.79\.\d+$/);
    expect(i?.publicIp).toMatch(/^203\.0\.113\.\d+$/);
    expect((await provider.connectInfo(id)).dockerHost).toBe(`tcp://${i?.privateIp}:${PORT}`);
  });

  it('with use_private_ip = false connects to the public IP; a manager taking the private one never reaches the instance', async () => {
    const publicHost = pingMachineHost({ block: 78, port: PORT });
    const outside = await startEc2Emulator({
      dir: mkdtempSync(join(dir, 'public-')),
      host: publicHost,
      reachable: 'public',
    });
    try {
      const p = await newProvider({ use_private_ip: false }, outside);
      const [id = ''] = await p.increase(1);
      await running(p, 1);
      const [i] = outside.instances();
      expect(i?.publicIp).toMatch(/^127\.0\.78\.\d+$/);
      expect(i?.privateIp).toMatch(/^172\.31\.\d+\.\d+$/);
      const info = await p.connectInfo(id);
      expect(info.dockerHost).toBe(`tcp://${i?.publicIp}:${PORT}`);
      expect(info.internalAddr).toBe(i?.publicIp);
      await p.heartbeat?.(id);
      const inside = await newProvider({}, outside);
      const seen = await listed(inside);
      expect(seen.map((r) => r.id)).toEqual([id]);
      expect(seen[0]?.state).not.toBe('running'); // creating until boot_timeout, then timeout
      expect((await inside.connectInfo(id)).dockerHost).toBe(`tcp://${i?.privateIp}:${PORT}`);
      await expect(inside.heartbeat?.(id)).rejects.toThrow(`instance ${id} does not answer`);
      expect(await p.decrease([id])).toEqual([id]);
      await until('terminated', async () => outside.instances().length === 0);
    } finally {
      await outside.close();
      await publicHost.close();
    }
  });

  it('reports a spot instance the cloud stopped as timeout and terminates it on decrease; one it terminated is no longer listed', async () => {
    const spot = await newProvider({ spot: true });
    const ids = await spot.increase(2);
    await running(spot, 2);
    const [stopped, terminated] = emu.instances();
    expect(stopped?.lifecycle).toBe('spot');
    await emu.interrupt(stopped?.id ?? '', 'stopped');
    await emu.interrupt(terminated?.id ?? '', 'terminated');
    const name = (i: typeof stopped): string => i?.tags.Name ?? '';
    // the stopped one still exists at the cloud (and costs its volume): reported dead, so removed
    expect(await listed(spot)).toEqual([expect.objectContaining({ id: name(stopped), state: 'timeout' })]);
    expect(ids).toContain(name(terminated));
    expect(await spot.decrease([name(stopped)])).toEqual([name(stopped)]);
    await until('the stopped instance terminated', async () => emu.instances().length === 0);
    expect(emu.all().find((i) => i.id === stopped?.id)?.state).toBe('terminated');
    expect(await listed(spot)).toEqual([]);
  });
});

describe('aws plugin_config', () => {
  it('needs a launch template, or an AMI and an instance type', () => {
    expect(() => parseAwsConfig({ region: 'us-east-1' })).toThrow(/launch template/);
    expect(() => parseAwsConfig({ region: 'us-east-1', image_id: 'ami-0123456789abcdef0' })).toThrow();
    expect(() =>
      parseAwsConfig({ region: 'us-east-1', launch_template_id: 'lt-0a', launch_template_name: 'x' }),
    ).toThrow(/not both/);
    expect(parseAwsConfig({ region: 'eu-west-3', launch_template_name: 'ci' }).launch_template_version).toBe(
      '$Default',
    );
  });
});
