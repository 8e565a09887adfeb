/**
 * The `digitalocean` provider against the DigitalOcean API emulator (test/emulators/digitalocean):
 * droplets are loopback `/_ping` servers here; the e2e tests boot real machines. Also GitLab's two
 * cleaners against it: hanging droplets (at DigitalOcean, in no manager's state) and zero-id
 * machines (in the state, never answered by DigitalOcean).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startDoEmulator, type DoEmulator } from '../../../../test/emulators/digitalocean/emulator.js';
import { skippingClock, type SkippingClock } from '../../../../test/emulators/test-clock.js';
import { silentLogger } from '../../../shared/logger.js';
import { initialized, listed, providerUnitKit, until } from '../../../../test/helpers/provider-unit.js';
import { cleanFleet } from '../../cleaner.js';
import { autoscalerMetrics } from '../../metrics.js';
import type { InstanceGroup } from '../provider.js';
import { digitaloceanProviderConfigSchema } from './config.js';
import { createDigitaloceanProvider, digitaloceanProviderFactory } from './provider.js';

const kit = providerUnitKit({ name: 'do', basePort: 24150, block: 78 });
const { port: PORT, dir } = kit;
let emu: DoEmulator;
const clock: SkippingClock = skippingClock();
let provider: InstanceGroup;

async function newProvider(extra: Record<string, unknown> = {}): Promise<InstanceGroup> {
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${emu.token}\n`);
  const config = digitaloceanProviderConfigSchema.parse({
    region: 'nyc1',
    name: 'unit',
    token_file: tokenFile,
    api_endpoint: emu.endpoint,
    docker_port: PORT,
    request_timeout: 2,
    ...extra,
  });
  return initialized(createDigitaloceanProvider({ config, runnerName: 'unit' }), clock);
}

beforeAll(async () => {
  emu = await startDoEmulator({ host: kit.host, pageSize: 2 });
  provider = await newProvider();
});

afterEach(async () => {
  Object.assign(emu.faults, { dropletLimit: null, down: false, next: [], keepOnDelete: 0 });
  const ids = emu.droplets().map((d) => d.name);
  if (ids.length > 0) await provider.decrease(ids);
  await until('no droplets', async () => emu.droplets().length === 0);
});

afterAll(async () => {
  await emu.close();
  await kit.close();
});

describe('digitalocean provider against the DigitalOcean API emulator', () => {
  it('creates tagged droplets, lists them by tag across pages, connects and deletes them', async () => {
    const ids = await provider.increase(5);
    expect(ids).toHaveLength(5);
    for (const d of emu.droplets()) expect(d.tags).toEqual(['flotilla-unit', 'flotilla-managed']);
    const states = await until('all running', async () => {
      const s = await listed(provider);
      return s.length === 5 && s.every((x) => x.state === 'running') && s;
    });
    expect(states.map((s) => s.id)).toEqual([...ids].sort());
    const info = await provider.connectInfo(ids[0] ?? '');
    expect(info.dockerHost).toMatch(new RegExp(`^tcp://127\\.0\\.78\\.\\d+:${PORT}$`));
    expect(info.zone).toBe('nyc1');
    await provider.heartbeat?.(ids[0] ?? '');
    expect(await provider.decrease(ids)).toEqual(ids);
    await until('droplets gone', async () => emu.droplets().length === 0);
    expect(emu.server.log.filter((l) => l.status === 401)).toEqual([]);
    expect(
      emu.server.log.filter((l) => l.method === 'GET' && l.path === '/v2/droplets').length,
    ).toBeGreaterThan(2);
  });

  it('reports the droplet limit as capacity', async () => {
    emu.faults.dropletLimit = 1;
    await provider.increase(1);
    await expect(provider.increase(1)).rejects.toMatchObject({ kind: 'capacity' });
    expect(emu.droplets()).toHaveLength(1);
  });

  it('waits for ratelimit-reset on 429 and retries; a 5xx on create is not repeated but reconciled by name', async () => {
    const before = clock.sleeps.length;
    emu.faults.next.push(429);
    expect(await provider.increase(1)).toHaveLength(1);
    const waited = clock.sleeps.slice(before);
    expect(waited).toHaveLength(1);
    expect(waited[0]).toBeLessThanOrEqual(2000);
    emu.faults.next.push(503, 500);
    await listed(provider);
    emu.faults.next.push(503);
    const [maybe] = await provider.increase(1);
    expect(maybe).toMatch(/^flotilla-unit-/);
    expect((await listed(provider)).map((s) => s.id)).not.toContain(maybe);
    expect(emu.droplets()).toHaveLength(1);
  });

  it('never leaks a droplet whose create answer is lost: the listing by tag finds it by name', async () => {
    const lossy = await newProvider({ retries: 0, request_timeout: 0.5 });
    emu.faults.loseCreateAnswers = 1;
    const [id] = await lossy.increase(1);
    const found = await until('the droplet in the listing', async () =>
      (await listed(lossy)).find((s) => s.id === id && s.state === 'running'),
    );
    expect(found.id).toBe(id);
  });

  it('reports a droplet whose engine never answers as creating, then timeout after boot_timeout', async () => {
    emu.faults.neverBoot = 1;
    const [id] = await provider.increase(1);
    await until('active', async () => emu.droplets()[0]?.status === 'active');
    expect((await listed(provider)).find((s) => s.id === id)?.state).toBe('creating');
    clock.skip(301_000);
    expect((await listed(provider)).find((s) => s.id === id)?.state).toBe('timeout');
  });

  it('reports a droplet stuck in `new` as creating, then timeout after boot_timeout', async () => {
    emu.faults.stuckNew = 1;
    // the shared clock may already be ahead of the emulator's: boot_timeout counts from there
    const ahead = (clock.now().getTime() - Date.now()) / 1000;
    const p = await newProvider({ boot_timeout: ahead + 300 });
    const [id] = await p.increase(1);
    expect((await listed(p)).find((s) => s.id === id)?.state).toBe('creating');
    clock.skip(301_000);
    expect((await listed(p)).find((s) => s.id === id)?.state).toBe('timeout');
  });

  it('hanging-droplets and droplet-zero-machines cleaners: removes droplets no state knows and old zero-id entries', async () => {
    const registry = new Registry();
    const metrics = autoscalerMetrics(registry);
    const [kept] = await provider.increase(1);
    const [hanging] = await provider.increase(1);
    emu.faults.keepOnDelete = 1; // DigitalOcean answers 204 but keeps the droplet
    expect(await provider.decrease([hanging ?? ''])).toEqual([hanging]);
    await emu.plant('flotilla-unit-0ld0ld00', ['flotilla-unit'], 3_600_000);
    const other = await emu.plant('someone-else', ['other'], 3_600_000);
    clock.skip(1_800_000);
    // one minute old by the manager's clock: younger than orphan_min_age, left alone
    await emu.plant('flotilla-unit-recent00', ['flotilla-unit'], Date.now() - clock.now().getTime() + 60_000);
    let zeroIds = [
      {
        key: 'do/',
        state: 'creating' as const,
        createdAt: new Date(Date.now() - 3_600_000).toISOString(),
        useCount: 0,
        busy: 0,
      },
      { key: 'do/', state: 'creating' as const, createdAt: clock.now().toISOString(), useCount: 0, busy: 0 },
    ];
    const report = await cleanFleet({
      runner: 'unit',
      group: provider,
      known: new Set([kept ?? '']),
      zeroIds,
      dropZeroIds: (drop) => {
        zeroIds = zeroIds.filter((r) => !drop(r));
      },
      orphanMinAgeMs: 900_000,
      zeroIdMaxAgeMs: 900_000,
      nowMs: clock.now().getTime(),
      dryRun: false,
      logger: silentLogger(),
      metrics,
    });
    expect(report.orphans.found.sort()).toEqual([hanging, 'flotilla-unit-0ld0ld00'].sort());
    expect(report.orphans.removed.sort()).toEqual(report.orphans.found.sort());
    expect(report.zeroIds).toEqual({ found: 1, removed: 1 });
    expect(zeroIds).toHaveLength(1);
    await until('orphans gone', async () => emu.droplets().length === 3);
    expect(
      emu
        .droplets()
        .map((d) => d.name)
        .sort(),
    ).toEqual([kept, 'flotilla-unit-recent00', 'someone-else'].sort());
    const text = await registry.metrics();
    expect(text).toContain(
      'flotilla_autoscaler_cleaner_machines_total{runner="unit",cleaner="orphan",result="found"} 2',
    );
    expect(text).toContain(
      'flotilla_autoscaler_cleaner_machines_total{runner="unit",cleaner="orphan",result="removed"} 2',
    );
    expect(text).toContain(
      'flotilla_autoscaler_cleaner_machines_total{runner="unit",cleaner="zero_id",result="removed"} 1',
    );
    const res = await fetch(`${emu.endpoint}droplets/${other.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${emu.token}` },
    });
    expect(res.status).toBe(204);
  });
});

describe('digitalocean provider with tls = true', () => {
  it("puts the engine TLS boot lines in front of the user data and connects on 2376 with the manager's client folder", async () => {
    const tlsDir = join(kit.dir, 'tls');
    const p = await newProvider({
      tls: true,
      tls_dir: tlsDir,
      docker_port: undefined,
      user_data: '#!/bin/sh\necho "start dockerd"\n',
    });
    const [id = ''] = await p.increase(1);
    // active with an address (its engine, a loopback /_ping server, is not on 2376: never running here)
    const info = await until('the droplet active', async () => p.connectInfo(id).catch(() => null));
    expect(info.dockerHost).toMatch(/^tcp:\/\/127\.0\.78\.\d+:2376$/);
    expect(info.tls).toEqual({ certPath: join(tlsDir, 'client') });
    const script = kit.host.userData?.get(info.dockerHost.replace(/^tcp:\/\/|:2376$/g, '')) ?? '';
    expect(script.startsWith('#!/bin/sh\nset -eu\n')).toBe(true);
    expect(script).toContain(readFileSync(join(tlsDir, 'ca.pem'), 'utf8').trim());
    expect(script).toContain(`/CN=${id}`);
    expect(script).toContain('echo "start dockerd"');
    // droplets have their public address on an interface: no metadata lookup in the script
    expect(script).not.toContain('169.254.169.254');
  });

  it('refuses tls with a #cloud-config user_data, and tls with docker_tls_cert_path', () => {
    const parse = (extra: Record<string, unknown>) => () =>
      digitaloceanProviderFactory.parseConfig(
        { region: 'nyc1', tls: true, ...extra },
        { runnerName: 'unit' },
      );
    expect(parse({ user_data: '#cloud-config\nruncmd: []\n' })).toThrow(
      /digitalocean: user_data must be a shell script starting with "#!" when tls = true/,
    );
    expect(parse({ docker_tls_cert_path: '/certs' })).toThrow(
      'digitalocean: set tls (certificates made by the manager) or docker_tls_cert_path (your own), not both',
    );
  });
});
