import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ERROR_CODES, FlotillaError, isFlotillaError } from './errors.js';

describe('error catalog', () => {
  it('documents every code in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('carries code, status and cause', () => {
    const cause = new Error('disk full');
    const err = new FlotillaError('FLO_ERR_GIT', 'push failed', { cause });
    expect(err.httpStatus).toBe(500);
    expect(err.cause).toBe(cause);
    expect(isFlotillaError(err, 'FLO_ERR_GIT')).toBe(true);
    expect(isFlotillaError(err, 'FLO_ERR_NOT_FOUND')).toBe(false);
  });
});
