import { describe, expect, it } from 'vitest';

import { machineIndex } from './machine-index.js';

interface Vm {
  name: string;
  zone: string;
  ip: string | null;
}

function fakeCloud(vms: Vm[]) {
  const calls = { list: 0, get: 0 };
  const index = machineIndex<string, Vm>({
    list: async () => {
      calls.list++;
      return vms.map((v) => ({ ...v }));
    },
    name: (v) => v.name,
    where: (v) => v.zone,
    address: (v) => v.ip,
    get: async (zone, name) => {
      calls.get++;
      return vms.find((v) => v.zone === zone && v.name === name) ?? null;
    },
    noAddress: (name) => `vm ${name} has no IP`,
  });
  return { index, calls };
}

describe('machineIndex', () => {
  it('lists the group only for a machine it does not know, and null for one not listed', async () => {
    const { index, calls } = fakeCloud([{ name: 'a', zone: 'z1', ip: null }]);
    expect(await index.locate('a')).toBe('z1');
    expect(await index.locate('a')).toBe('z1');
    expect(calls.list).toBe(1);
    expect(await index.locate('gone')).toBeNull();
    expect(calls.list).toBe(2);
  });

  it('reads an address the listing did not have, then remembers it until the machine is forgotten', async () => {
    const vms: Vm[] = [{ name: 'a', zone: 'z1', ip: null }];
    const { index, calls } = fakeCloud(vms);
    index.learn(vms.map((v) => ({ ...v })));
    await expect(index.address('a')).rejects.toThrow('vm a has no IP');
    vms[0] = { name: 'a', zone: 'z1', ip: '10.0.0.5' };
    expect(await index.address('a')).toBe('10.0.0.5');
    expect(await index.address('a')).toBe('10.0.0.5');
    expect(calls).toEqual({ list: 0, get: 2 });
    index.forget('a');
    expect(index.where.has('a')).toBe(false);
    expect(await index.address('a')).toBe('10.0.0.5');
    expect(calls).toEqual({ list: 1, get: 2 });
  });
});
