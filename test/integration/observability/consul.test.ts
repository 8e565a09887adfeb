/**
 * Consul registration of the discovery targets, against a fake Consul agent that follows the
 * documented agent HTTP API and records requests (Consul is not packaged here): the registrar's
 * register / TTL pass / deregister cycle with the ACL token, and the real wiring: a coordinator
 * started with `consul` settings registers itself and the managers it lists; a runner manager with
 * `[consul]` registers itself; both deregister when they stop.
 */
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createConsulRegistrar } from '../../../src/observability/consul.js';
import type { TargetGroup } from '../../../src/observability/http-sd.js';

import { systemClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { startTestCoordinator, type TestCoordinator } from '../../../harness/in-process-coordinator.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { startFakeConsul, type FakeConsul } from './fake-consul.js';
import { startTestManager, until, type TestManager } from './helpers.js';

describe('Consul registrar', () => {
  let consul: FakeConsul;
  beforeAll(async () => {
    consul = await startFakeConsul({ requiredToken: 'acl-secret' });
  });
  afterAll(async () => {
    await consul.close();
  });

  it('registers each target with a passing TTL check, deregisters vanished ones and all on stop', async () => {
    const groups: TargetGroup[] = [
      {
        targets: ['10.0.0.5:9100'],
        labels: { __meta_flotilla_component: 'machine', __meta_flotilla_instance_id: 'flotilla-ci-5' },
      },
      { targets: ['10.0.0.1:9252'], labels: { __meta_flotilla_component: 'runner-manager' } },
    ];
    const registrar = createConsulRegistrar({
      settings: { address: consul.url, token: 'acl-secret', serviceName: 'fleet', intervalSeconds: 3600 },
      targets: async () => groups,
      clock: systemClock,
      logger: silentLogger(),
    });
    await registrar.sync();
    expect([...consul.services.keys()].sort()).toEqual(['fleet-10.0.0.1-9252', 'fleet-10.0.0.5-9100']);
    expect(consul.services.get('fleet-10.0.0.5-9100')).toEqual({
      ID: 'fleet-10.0.0.5-9100',
      Name: 'fleet',
      Address: '10.0.0.5',
      Port: 9100,
      Tags: ['machine'],
      Meta: { component: 'machine', instance_id: 'flotilla-ci-5' },
      Check: {
        CheckID: 'service:fleet-10.0.0.5-9100',
        TTL: '10800s',
        DeregisterCriticalServiceAfter: '36000s',
      },
    });
    expect(consul.checks.get('service:fleet-10.0.0.5-9100')).toBe('passing');
    expect(consul.requests.every((r) => r.token === 'acl-secret' && r.method === 'PUT')).toBe(true);
    groups.shift();
    await registrar.sync();
    expect([...consul.services.keys()]).toEqual(['fleet-10.0.0.1-9252']);
    expect(consul.requests.map((r) => r.path)).toContain('/v1/agent/service/deregister/fleet-10.0.0.5-9100');
    await registrar.stop();
    expect(consul.services.size).toBe(0);
  });

  it('keeps going when Consul refuses (wrong token) or is down', async () => {
    const before = consul.requests.length;
    const refused = createConsulRegistrar({
      settings: { address: consul.url, token: 'wrong', serviceName: 'fleet', intervalSeconds: 3600 },
      targets: async () => [{ targets: ['10.0.0.9:9100'], labels: {} }],
      clock: systemClock,
      logger: silentLogger(),
    });
    await expect(refused.sync()).resolves.toBeUndefined();
    expect(consul.requests.length).toBe(before + 1);
    expect(consul.services.size).toBe(0);
    const down = createConsulRegistrar({
      settings: { address: 'http://127.0.0.1:1', serviceName: 'fleet', intervalSeconds: 3600 },
      targets: async () => [{ targets: ['10.0.0.9:9100'], labels: {} }],
      clock: systemClock,
      logger: silentLogger(),
    });
    await expect(down.sync()).resolves.toBeUndefined();
    await expect(down.stop()).resolves.toBeUndefined();
  });
});

describe('coordinator and runner manager registered in Consul', () => {
  let consul: FakeConsul;
  let coordinator: TestCoordinator | undefined;
  let manager: TestManager | undefined;
  let tmp: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    consul = await startFakeConsul();
    tmp = await tempDir('flotilla-consul-');
    coordinator = await startTestCoordinator({
      consul: { address: consul.url, serviceName: 'flotilla', intervalSeconds: 1 },
    });
    const runner = await coordinator.api.createRunner({ description: 'consul' });
    manager = await startTestManager({
      url: coordinator.running.url,
      token: runner.token,
      name: 'consul',
      concurrent: 1,
      buildsDir: path.join(tmp.dir, 'builds'),
      global: { consul: { address: consul.url, service_name: 'flotilla-manager', interval: '1s' } },
    });
  });

  afterAll(async () => {
    await manager?.stop();
    await coordinator?.stop();
    await consul?.close();
    await tmp?.remove();
  });

  const byTag = (tag: string, name: string) =>
    [...consul.services.values()].find((s) => s['Name'] === name && (s['Tags'] as string[]).includes(tag));

  it('registers the coordinator, the manager it lists, and the manager itself', async () => {
    const managerAddress = manager?.address ?? '';
    const coordinatorPort = Number(new URL(coordinator!.running.url).port);
    const found = await until('the three registrations', async () => {
      const self = byTag('coordinator', 'flotilla');
      const listed = byTag('runner-manager', 'flotilla');
      const own = byTag('runner-manager', 'flotilla-manager');
      return self && listed && own ? { self, listed, own } : undefined;
    });
    expect(found.self).toMatchObject({ Address: '127.0.0.1', Port: coordinatorPort });
    for (const svc of [found.listed, found.own])
      expect(`${String(svc['Address'])}:${String(svc['Port'])}`).toBe(managerAddress);
    expect(found.own['Meta']).toMatchObject({
      component: 'runner-manager',
      state: 'running',
      system_id: 's_0123456789ab',
    });
    expect(consul.checks.get(`service:${String(found.own['ID'])}`)).toBe('passing');
  });

  it('deregisters on stop', async () => {
    await manager?.stop();
    expect(byTag('runner-manager', 'flotilla-manager')).toBeUndefined();
    await coordinator?.stop();
    coordinator = undefined;
    expect(byTag('coordinator', 'flotilla')).toBeUndefined();
    expect(consul.services.size).toBe(0);
  });
});
