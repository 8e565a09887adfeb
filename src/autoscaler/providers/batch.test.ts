import { describe, expect, it } from 'vitest';

import { createUpTo } from './batch.js';
import { ProviderError } from './provider.js';

describe('createUpTo', () => {
  it('creates only what fits under max_size and hands each failure on', async () => {
    let made = 0;
    const seen: unknown[] = [];
    const ids = await createUpTo(
      5,
      4,
      'g',
      () => Promise.resolve(1),
      () => (++made === 2 ? Promise.reject(new Error('quota')) : Promise.resolve(`m${made}`)),
      (err) => seen.push(err),
    );
    expect(made).toBe(3);
    expect(ids).toEqual(['m1', 'm3']);
    expect(seen).toEqual([new Error('quota')]);
  });

  it('throws the first failure as a ProviderError when nothing was created', async () => {
    const run = createUpTo(
      2,
      0,
      'g',
      () => Promise.resolve(0),
      () => Promise.reject(new Error('down')),
    );
    await expect(run).rejects.toBeInstanceOf(ProviderError);
    await expect(run).rejects.toMatchObject({ kind: 'api', message: 'Error: down' });
  });

  it('throws capacity when the group is full', async () => {
    const run = createUpTo(
      1,
      2,
      'g',
      () => Promise.resolve(2),
      () => Promise.resolve('x'),
    );
    await expect(run).rejects.toMatchObject({ kind: 'capacity' });
  });
});
