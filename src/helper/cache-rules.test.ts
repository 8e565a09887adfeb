import { describe, expect, it } from 'vitest';

import { cacheApplies, cacheKeyFolder, restoreKeys } from './cache.js';

describe('helper cache rules', () => {
  it.each([
    ['deps-protected', 'deps-protected'],
    ['a/b', 'a/b'],
    ['x y', 'x_y'],
    ['../etc', null],
    ['', null],
  ])('key %j → folder %j', (key, folder) => {
    expect(cacheKeyFolder(key)).toBe(folder);
  });

  it('tries the key, the fallback keys, then CACHE_FALLBACK_KEY', () => {
    expect(
      restoreKeys(
        {
          key: 'k',
          untracked: false,
          paths: [],
          policy: 'pull',
          when: 'on_success',
          fallback_keys: ['f1', 'k'],
        },
        'global',
      ),
    ).toEqual(['k', 'f1', 'global']);
  });

  it.each([
    ['pull-push', 'on_success', 'success', true],
    ['pull-push', 'on_success', 'failed', false],
    ['push', 'on_failure', 'failed', true],
    ['pull', 'always', 'success', false],
    ['pull-push', 'always', 'canceled', true],
  ] as const)('policy %s when %s, job %s → saved %s', (policy, when, outcome, saved) => {
    expect(
      cacheApplies({ key: 'k', untracked: false, paths: [], policy, when, fallback_keys: [] }, outcome),
    ).toBe(saved);
  });
});
