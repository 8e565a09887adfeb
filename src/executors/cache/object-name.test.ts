import { describe, expect, it } from 'vitest';

import { isFlotillaError } from '../../shared/errors.js';
import { cacheObjectName, cacheObjectPrefix } from './object-name.js';

const base = { path: '', shared: false, shortToken: 'xyzw1234', projectId: 17 };

function refusal(key: string): string {
  try {
    cacheObjectName({ ...base, key });
  } catch (err) {
    if (isFlotillaError(err, 'FLO_ERR_CACHE_KEY_INVALID')) return err.message;
    throw err;
  }
  return '';
}

describe('cache object names', () => {
  it("follows gitlab-runner's layout, with and without Shared and Path", () => {
    expect(cacheObjectName({ ...base, key: 'deps-protected' })).toBe(
      'runner/xyzw1234/project/17/deps-protected',
    );
    expect(cacheObjectName({ ...base, shared: true, key: 'deps' })).toBe('project/17/deps');
    expect(cacheObjectName({ ...base, path: 'ci/cache', key: 'deps' })).toBe(
      'ci/cache/runner/xyzw1234/project/17/deps',
    );
    expect(cacheObjectName({ ...base, path: 'ci', shared: true, key: 'a/b' })).toBe('ci/project/17/a/b');
    expect(cacheObjectPrefix({ ...base, shared: true })).toBe('project/17');
  });

  it('normalizes keys that stay inside the project, as path.Join does', () => {
    expect(cacheObjectName({ ...base, shared: true, key: 'a/../b' })).toBe('project/17/b');
    expect(cacheObjectName({ ...base, shared: true, key: '/lead' })).toBe('project/17/lead');
  });

  it('refuses keys that leave the project prefix, empty and oversized keys, with a clear error', () => {
    expect(refusal('../other')).toContain('outside of the project prefix; remove "../" from the key');
    expect(refusal('../../18/deps')).toContain('outside of the project prefix');
    expect(refusal('.')).toContain('outside of the project prefix');
    expect(refusal('')).toBe('cache key "" is empty');
    expect(refusal('  ')).toContain('is empty');
    expect(refusal('k'.repeat(256))).toContain('longer than 255 characters');
    expect(refusal('a\0b')).toContain('NUL byte');
  });
});
