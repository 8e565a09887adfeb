/**
 * The `gce` provider against the Compute Engine emulator (test/emulators/gce): machines are loopback
 * `/_ping` servers here; the e2e tests boot real machines.
 */
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startGceEmulator, type GceEmulator } from '../../../../test/emulators/gce/emulator.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { skippingClock, type SkippingClock } from '../../../../test/emulators/test-clock.js';
import { silentLogger } from '../../../shared/logger.js';
import { initialized, listed, providerUnitKit, until } from '../../../../test/helpers/provider-unit.js';
import { createProviderExporter } from '../../exporter.js';
import { createProviderGroup } from '../../provider-group.js';
import { ProviderError, type InstanceGroup } from '../provider.js';
import { gceProviderConfigSchema } from './config.js';
import { createGceProvider, gceProviderFactory } from './provider.js';

const kit = providerUnitKit({ name: 'gce', basePort: 23750, block: 77 });
const { port: PORT, dir } = kit;
let emu: GceEmulator;
let clock: SkippingClock;
let provider: InstanceGroup;

async function newProvider(extra: Record<string, unknown> = {}): Promise<InstanceGroup> {
  const config = gceProviderConfigSchema.parse({
    project: emu.project,
    zones: ['us-east1-c', 'us-east1-d'],
    name: 'unit',
    credentials_file: emu.serviceAccount.keyFile,
    api_endpoint: emu.endpoint,
    docker_port: PORT,
    boot_timeout: 60,
    request_timeout: 2,
    ...extra,
  });
  return initialized(createGceProvider({ config, runnerName: 'unit' }), clock);
}

beforeAll(async () => {
  emu = await startGceEmulator({ dir, host: kit.host, pageSize: 2 });
});

afterEach(async () => {
  emu.faults.quota = null;
  emu.faults.zonesDown.clear();
  emu.faults.next.length = 0;
  const ids = emu.instances().map((i) => i.name);
  if (ids.length > 0) await provider.decrease(ids);
  expect(emu.instances()).toEqual([]);
});

afterAll(async () => {
  await emu.close();
  await kit.close();
});

describe('gce provider against the Compute Engine emulator', () => {
  it('creates labelled instances spread over the zones, lists them across pages, connects and deletes', async () => {
    clock = skippingClock();
    provider = await newProvider();
    const ids = await provider.increase(5);
    expect(ids).toHaveLength(5);
    for (const id of ids) expect(id).toMatch(/^flotilla-unit-[0-9a-f]{8}$/);
    const zones = emu.instances().map((i) => i.zone);
    expect(new Set(zones)).toEqual(new Set(['us-east1-c', 'us-east1-d']));
    for (const i of emu.instances()) expect(i.labels['flotilla-group']).toBe('unit');
    const states = await listed(provider);
    expect(states.map((s) => s.id)).toEqual([...ids].sort());
    expect(states.every((s) => s.state === 'running' && s.createdAt instanceof Date)).toBe(true);
    const info = await provider.connectInfo(ids[0] ?? '');
    expect(info.dockerHost).toMatch(new RegExp(`^tcp://127\\.0\\.77\\.\\d+:${PORT}$`));
    expect(['us-east1-c', 'us-east1-d']).toContain(info.zone);
    await provider.heartbeat?.(ids[0] ?? '');
    expect(await provider.decrease(ids)).toEqual(ids);
    expect(emu.instances()).toEqual([]);
    // every call was authenticated with the service account's signed JWT; list pages of 2 were followed
    expect(emu.server.log.filter((l) => l.status === 401)).toEqual([]);
    expect(emu.server.log.some((l) => l.method === 'POST' && /operations\/.+\/wait$/.test(l.path))).toBe(
      true,
    );
  });

  it("reports the group's inventory through the provider exporter", async () => {
    await provider.increase(2);
    emu.faults.neverBoot = 1;
    await provider.increase(1);
    const registry = new Registry();
    const group = createProviderGroup({
      members: [{ name: 'gce', group: provider, backup: false }],
      failoverAfterMs: 60_000,
      throttle: { limit: -1, burst: 10 },
      clock,
      logger: silentLogger(),
    });
    const exporter = createProviderExporter({
      runner: 'unit',
      group,
      registry,
      clock,
      logger: silentLogger(),
    });
    await exporter.scrape();
    const text = await registry.metrics();
    expect(text).toContain('flotilla_provider_machines{runner="unit",provider="gce",state="running"} 2');
    expect(text).toContain('flotilla_provider_machines{runner="unit",provider="gce",state="creating"} 1');
  });

  it('reports a quota error as capacity and creates nothing', async () => {
    emu.faults.quota = 1;
    const ids = await provider.increase(1);
    await expect(provider.increase(1)).rejects.toMatchObject({ kind: 'capacity' });
    expect(emu.instances().map((i) => i.name)).toEqual(ids);
  });

  it('retries 429 (Retry-After) and 5xx answers with backoff', async () => {
    const before = clock.sleeps.length;
    emu.faults.next.push(429, 503, 500);
    const ids = await provider.increase(1);
    expect(ids).toHaveLength(1);
    expect(clock.sleeps.slice(before)[0]).toBe(1000);
    expect(clock.sleeps.length - before).toBe(3);
    emu.faults.next.push(429, 429, 429, 429, 429);
    const err = await provider.increase(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('rate_limit');
  });

  it('creates in the other zone during a zone outage and still lists the healthy zone', async () => {
    emu.faults.zonesDown.add('us-east1-c');
    const ids = await provider.increase(3);
    expect(ids).toHaveLength(3);
    expect(emu.instances().every((i) => i.zone === 'us-east1-d')).toBe(true);
    expect((await listed(provider)).map((s) => s.id)).toEqual([...ids].sort());
    emu.faults.zonesDown.add('us-east1-d');
    await expect(provider.increase(1)).rejects.toBeInstanceOf(ProviderError);
    await expect(provider.update(() => undefined)).rejects.toBeInstanceOf(ProviderError);
    emu.faults.zonesDown.clear();
  });

  it('reports an instance whose engine never answers as creating, then timeout after boot_timeout', async () => {
    emu.faults.neverBoot = 1;
    const [id] = await provider.increase(1);
    expect((await listed(provider)).find((s) => s.id === id)?.state).toBe('creating');
    clock.skip(61_000);
    expect((await listed(provider)).find((s) => s.id === id)?.state).toBe('timeout');
  });

  it('never leaks an instance whose insert answer is lost: the name comes back and the listing finds it', async () => {
    const lossy = await newProvider({ retries: 0, request_timeout: 0.5 });
    emu.faults.loseInsertAnswers = 1;
    const [id] = await lossy.increase(1);
    expect(id).toMatch(/^flotilla-unit-/);
    const found = await until('the instance in the listing', async () =>
      (await listed(lossy)).find((s) => s.id === id && s.state === 'running'),
    );
    expect(found.id).toBe(id);
    // with retries, the repeated insert carries the same requestId: one instance, not two
    emu.faults.loseInsertAnswers = 1;
    const retrying = await newProvider({ retries: 2, request_timeout: 0.5 });
    const [again] = await retrying.increase(1);
    expect(emu.instances().filter((i) => i.name === again)).toHaveLength(1);
    expect(emu.instances()).toHaveLength(2);
  });
});

describe('gce provider with tls = true', () => {
  it('puts the engine TLS boot lines in front of the startup script, connects on 2376 with the client folder', async () => {
    clock = skippingClock();
    const tlsDir = join(dir, 'tls');
    const p = await newProvider({
      tls: true,
      tls_dir: tlsDir,
      docker_port: undefined,
      metadata: { 'startup-script': '#!/bin/sh\necho "start dockerd"\n', 'enable-oslogin': 'TRUE' },
    });
    provider = p;
    const [id = ''] = await p.increase(1);
    const info = await p.connectInfo(id);
    expect(info.dockerHost).toMatch(/^tcp:\/\/127\.0\.77\.\d+:2376$/);
    expect(info.tls).toEqual({ certPath: join(tlsDir, 'client') });
    const address = info.dockerHost.replace(/^tcp:\/\/|:2376$/g, '');
    const script = kit.host.userData?.get(address) ?? '';
    expect(script.startsWith('#!/bin/sh\nset -eu\n')).toBe(true);
    expect(script).toContain(readFileSync(join(tlsDir, 'ca.pem'), 'utf8').trim());
    expect(script).toContain(`/CN=${id}`);
    expect(script).toContain('echo "start dockerd"');
    expect(script.trimEnd().endsWith('exec "${FLOTILLA_ROOT:-}/etc/flotilla/user-data"')).toBe(true);
    // the other metadata keys stay as configured
    expect(emu.instances()).toHaveLength(1);
  });

  it('refuses tls with a startup script that is not a shell script', () => {
    expect(() =>
      gceProviderFactory.parseConfig(
        {
          project: 'p',
          zones: ['us-east1-c'],
          tls: true,
          metadata: { 'startup-script': '#cloud-config\n' },
        },
        { runnerName: 'unit' },
      ),
    ).toThrow(/gce: metadata.startup-script must be a shell script starting with "#!" when tls = true/);
  });
});
