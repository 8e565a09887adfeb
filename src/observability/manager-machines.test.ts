import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { createManagerMachines } from './manager-machines.js';

const MACHINE = {
  targets: ['10.1.0.2:9100'],
  labels: { __meta_flotilla_component: 'machine', __meta_flotilla_instance_id: 'm-1' },
};
const SELF = { targets: ['10.0.0.5:9252'], labels: { __meta_flotilla_component: 'runner-manager' } };

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

/** A manager's status server answering its discovery list; counts the requests. */
async function manager(body: unknown): Promise<{ address: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url !== '/-/discovery/targets') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits, server };
}

describe('createManagerMachines', () => {
  it("keeps only the managers' machine groups, drops malformed ones, and caches answers", async () => {
    const m = await manager([
      SELF,
      MACHINE,
      { targets: [1], labels: { __meta_flotilla_component: 'machine' } },
    ]);
    let now = 0;
    const machines = createManagerMachines({ now: () => now, cacheMs: 1000 });
    expect(await machines.groups([m.address])).toEqual([MACHINE]);
    expect(await machines.groups([m.address])).toEqual([MACHINE]);
    expect(m.hits()).toBe(1);
    now = 1500;
    await machines.groups([m.address]);
    expect(m.hits()).toBe(2);
  });

  it("keeps a silent manager's last machines for staleMs, then lists none", async () => {
    const m = await manager([MACHINE]);
    let now = 0;
    const machines = createManagerMachines({ now: () => now, cacheMs: 0, staleMs: 60_000, timeoutMs: 500 });
    expect(await machines.groups([m.address])).toEqual([MACHINE]);
    await new Promise((r) => m.server.close(r));
    servers = [];
    now = 30_000;
    expect(await machines.groups([m.address])).toEqual([MACHINE]);
    now = 61_000;
    expect(await machines.groups([m.address])).toEqual([]);
  });

  it('lists nothing for a manager that never answered', async () => {
    const machines = createManagerMachines({ now: () => 0, timeoutMs: 500 });
    expect(await machines.groups(['127.0.0.1:1'])).toEqual([]);
  });
});
