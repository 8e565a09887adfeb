/**
 * Health checks and service discovery on the coordinator and the runner manager: `/-/health` and
 * `/-/ready` on both, the manager listing itself (state, system id, runners), and the
 * coordinator listing itself and the managers that polled it.
 */
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { contactOf } from '../../../src/coordinator/routes/observability-routes.js';
import { createManagerDirectory } from '../../../src/observability/manager-directory.js';
import { startTestCoordinator, type TestCoordinator } from '../../../harness/in-process-coordinator.js';
import { tempDir } from '../../../harness/temp-dir.js';
import { startTestManager, until, type TestManager } from './helpers.js';

interface Group {
  targets: string[];
  labels: Record<string, string>;
}

async function groups(url: string): Promise<Group[]> {
  const res = await fetch(url);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Group[];
}

describe('health checks and HTTP service discovery', () => {
  let coordinator: TestCoordinator;
  let manager: TestManager;
  let removeDir: () => Promise<void>;
  let token: string;

  beforeAll(async () => {
    const tmp = await tempDir('flotilla-discovery-');
    removeDir = tmp.remove;
    coordinator = await startTestCoordinator();
    token = (await coordinator.api.createRunner({ description: 'discovered' })).token;
    manager = await startTestManager({
      url: coordinator.running.url,
      token,
      buildsDir: path.join(tmp.dir, 'builds'),
    });
  });

  afterAll(async () => {
    await manager?.stop();
    await coordinator?.stop();
    await removeDir?.();
  });

  it('serves /-/health and /-/ready on the coordinator and the manager', async () => {
    for (const base of [coordinator.running.url, `http://${manager.address}`]) {
      expect((await fetch(`${base}/-/health`)).status, `${base}/-/health`).toBe(200);
      expect((await fetch(`${base}/-/ready`)).status, `${base}/-/ready`).toBe(200);
    }
  });

  it('the coordinator lists itself and the manager that polled it', async () => {
    const list = await until('the manager to be listed', async () => {
      const all = await groups(`${coordinator.running.url}/-/discovery/targets`);
      return all.some((g) => g.labels['__meta_flotilla_component'] === 'runner-manager') ? all : undefined;
    });
    const self = list.find((g) => g.labels['__meta_flotilla_component'] === 'coordinator');
    expect(self?.targets).toEqual([new URL(coordinator.running.url).host]);
    const listed = list.find((g) => g.labels['__meta_flotilla_component'] === 'runner-manager');
    expect(listed?.targets).toEqual([manager.address]);
    expect(listed?.labels['__meta_flotilla_system_id']).toBe('s_0123456789ab');
    expect(listed?.labels['__meta_flotilla_runners']).toBe(`,${token.replace(/^glrt-/, '').slice(0, 9)},`);
  });

  it('the manager lists itself with its state and runners', async () => {
    const url = `http://${manager.address}/-/discovery/targets`;
    const [self] = await groups(url);
    expect(self?.targets).toEqual([manager.address]);
    expect(self?.labels).toMatchObject({
      __meta_flotilla_component: 'runner-manager',
      __meta_flotilla_state: 'running',
      __meta_flotilla_system_id: 's_0123456789ab',
    });
    expect(self?.labels['__meta_flotilla_runners']).toMatch(/^,[\w-]{9},$/);
  });

  it('completes a wildcard metrics address with the peer IP and drops requests without one', () => {
    const body = {
      token: 'glrt-abcdefghijklmnop',
      system_id: 's_1',
      info: { version: '1.2', config: { metrics_address: '0.0.0.0:9252' } },
    };
    const contact = contactOf(body, '::ffff:10.1.2.3');
    expect(contact).toMatchObject({ runner: 'abcdefghi', systemId: 's_1', version: '1.2' });
    const directory = createManagerDirectory(60_000);
    directory.record(contact!, 0);
    expect(directory.targets(1000).map((g) => g.targets)).toEqual([['10.1.2.3:9252']]);
    expect(directory.targets(120_000)).toEqual([]);
    expect(contactOf({ token: 'glrt-x', info: {} }, '10.0.0.1')).toBeNull();
  });
});
