import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';

import { createMemoryStore } from './create-store.js';
import type { Store } from './store.js';
import { DB_DURATION_METRIC, timedStore } from './timed-store.js';

async function counts(registry: Registry): Promise<Map<string, number>> {
  const [metric] = (await registry.getMetricsAsJSON()).filter((m) => m.name === DB_DURATION_METRIC);
  const out = new Map<string, number>();
  for (const v of (metric?.values ?? []) as {
    metricName?: string;
    labels: Record<string, unknown>;
    value: number;
  }[])
    if (v.metricName === `${DB_DURATION_METRIC}_count`) out.set(String(v.labels['operation']), v.value);
  return out;
}

describe('timedStore', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('times every store call of a real SQLite store by operation, failed calls included', async () => {
    const registry = new Registry();
    store = await createMemoryStore({ registry });
    await store.ensureRootUser();
    await store.getProject(1);
    await store.getProject(2);
    await expect(
      store.createProject({ namespacePath: 'g', path: 'p' } as unknown as Parameters<
        Store['createProject']
      >[0]),
    ).rejects.toThrow();
    const seen = await counts(registry);
    expect(seen.get('ensureRootUser')).toBe(1);
    expect(seen.get('getProject')).toBe(2);
    expect(seen.get('createProject')).toBe(1);
    expect((store as unknown as { dialect: string }).dialect).toBe('sqlite');
    const text = await registry.metrics();
    expect(text).toContain(`# TYPE ${DB_DURATION_METRIC} histogram`);
  });

  it('keeps results, this and synchronous members, and registers the histogram once', async () => {
    const registry = new Registry();
    const calls: string[] = [];
    const fake = {
      label: 'plain',
      sync(): string {
        calls.push('sync');
        return this.label;
      },
      async read(): Promise<string> {
        return this.label;
      },
    };
    const first = timedStore(fake as unknown as Store, registry) as unknown as typeof fake;
    timedStore(fake as unknown as Store, registry);
    expect(first.label).toBe('plain');
    expect(first.sync()).toBe('plain');
    expect(await first.read()).toBe('plain');
    expect(first.read).toBe(first.read);
    expect(calls).toEqual(['sync']);
    expect([...(await counts(registry)).entries()]).toEqual([['read', 1]]);
  });
});
